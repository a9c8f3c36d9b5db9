/*
 * Host test binary: runs the self-tests selected by argv[1] (all by default)
 * and exits non-zero if any failed.
 */
#include <test/selftest.h>

int main(int argc, char **argv)
{
    return selftest_run_all(argc > 1 ? argv[1] : NULL) ? 1 : 0;
}
