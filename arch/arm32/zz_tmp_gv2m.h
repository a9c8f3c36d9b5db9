#include <lib/types.h>
struct domain;
#define GV2M_READ 0
#define GV2M_WRITE 1
int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags);
