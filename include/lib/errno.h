/* Error numbers, with Linux's values; functions return 0 or -Exxx. */
#ifndef LIB_ERRNO_H
#define LIB_ERRNO_H

#define ENOENT 2
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34

#endif
