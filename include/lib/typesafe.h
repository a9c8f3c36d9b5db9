/*
 * Distinct integer types the compiler tells apart.
 *
 * The memory code juggles three numbers that are all "an unsigned integer"
 * to C: a machine frame number (mfn_t, a physical address >> PAGE_SHIFT), a
 * page index into the frame table (pdx_t, see mm/pdx.h) and a physical
 * address (paddr_t). Any of them fits the others' variables, and frame
 * numbers and page indices are equal on a machine whose RAM starts at 0
 * without holes, so passing one where another is meant can work in every
 * test and break on real hardware. TYPE_SAFE(type, name) makes such a
 * mix-up a compile error:
 *
 *     TYPE_SAFE(unsigned long, mfn)
 *
 * gives the type mfn_t, the constructor _mfn(x) (integer -> mfn_t) and the
 * accessor mfn_x(m) (mfn_t -> integer). Every crossing between the typed
 * value and a plain integer is spelled out with one of them, so a reader
 * sees where it happens and a reviewer can ask why.
 *
 * In debug builds (CONFIG_DEBUG) the type is a struct with one member: no
 * arithmetic, no comparison, no implicit conversion to or from any integer
 * or to another such type. An mfn_t cannot be given where a pdx_t or a
 * paddr_t is expected, nor the other way round; the only ways across are
 * the named translations (mfn_to_pdx, pdx_to_mfn, mfn_to_paddr,
 * paddr_to_mfn, page_to_mfn, ...). Physical addresses stay plain paddr_t
 * (uint64_t): being the only integer of the three, they cannot be mixed
 * with either struct silently either.
 *
 * In release builds the type is the plain integer, and the constructor and
 * accessor are identity functions that the compiler folds away: the
 * optimiser sees the integer code it would see without the types, so the
 * checks cost nothing at run time. (A struct of one word travels in a
 * register on both ABIs we build for, so debug builds pay little too.)
 * Release builds accept what debug builds reject, so only the debug build
 * proves the code right: it is the default one, and the one tests run.
 *
 * Small helpers for what the code does often (mfn_add, mfn_eq, ...) live
 * beside each type, named as in Xen.
 */
#ifndef TYPESAFE_H
#define TYPESAFE_H

#ifdef CONFIG_DEBUG

#define TYPE_SAFE(type, name)                                               \
    typedef struct { type name; } name##_t;                                 \
    static inline name##_t _##name(type n) { return (name##_t){ n }; }      \
    static inline type name##_x(name##_t n) { return n.name; }

#else

#define TYPE_SAFE(type, name)                                               \
    typedef type name##_t;                                                  \
    static inline name##_t _##name(type n) { return n; }                    \
    static inline type name##_x(name##_t n) { return n; }

#endif

#endif
