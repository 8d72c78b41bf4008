// A shared library that is not a ModelGate plugin: no entry symbol.
#include <modelgate/abi.h>

extern "C" MG_EXPORT int some_other_function(int x) {
    return x + 1;
}
