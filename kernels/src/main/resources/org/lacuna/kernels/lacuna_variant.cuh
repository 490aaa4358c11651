// The storage-type variant constants T_IN and T_OUT (f32, f16, bf16) with their default where a build names none
// (every declared variant names them; the default lets a file compile on its own), and In and Out, their storage.
// A kernel whose default differs defines it before including this. No include guard, on purpose: included once per
// kernel, after lacuna_common.cuh, and the kernel emulator compiles several variants into one translation unit, each
// in its own namespace with its own constants.
#ifndef T_IN
#define T_IN f32
#endif
#ifndef T_OUT
#define T_OUT f32
#endif

typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> In;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> Out;
