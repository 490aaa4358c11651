// Everything the emulated tests share and that does not depend on a variant's macros: the standard headers, the
// emulator and the test helpers. run.sh precompiles it once (g++ -x c++-header) and every build includes it first
// (-include), so each variant's compile parses only its kernel and its test, not the C++ library again.
#pragma once
#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include "inc/lacuna_common.cuh"
#include "inc/lacuna_async.cuh"
#include "inc/lacuna_mma.cuh"
#include "testutil.h"
#include "fixture.h"
