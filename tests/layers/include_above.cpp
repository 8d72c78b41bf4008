// Compiled by the layer tests (tests/CMakeLists.txt) with the include roots of
// one layer: its own header must resolve, a header of a layer above must not.
#include OWN_HEADER
#include FORBIDDEN_HEADER
