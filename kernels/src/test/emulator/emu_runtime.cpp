// The bodies of the emulator's EMU_RUNTIME functions (see cuda_emu.h), compiled once by run.sh and linked into
// every test binary.
#define LACUNA_EMU_IMPLEMENTATION
#include "emu_prelude.h"
