/* placeholder: replaced by the boot-info work */
int main(void) { return 1; }
