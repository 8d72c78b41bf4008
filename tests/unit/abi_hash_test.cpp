// Pins abi.h: any change to the binary contract must be a deliberate version
// bump. When this fails, decide whether the change is compatible (grow a struct
// at its end, add a function pointer at the end: bump MG_ABI_MINOR) or not
// (bump MG_ABI_MAJOR), update docs/plugin-guide.md, then update the hash here.
#include <gtest/gtest.h>
#include <modelgate/abi.h>

#include <fstream>
#include <sstream>

#include "util/crypto.hpp"

// sha256 of sdk/include/modelgate/abi.h for ABI 1.3.
#define MODELGATE_ABI_HASH "bdfa6c7b25edd10cb456562dd6eed8848d0a8ae126c8c90b6ad48656090b7cb0"

TEST(AbiContract, HeaderHashIsPinned) {
    std::ifstream in(std::string(MODELGATE_SOURCE_DIR) + "/sdk/include/modelgate/abi.h",
                     std::ios::binary);
    ASSERT_TRUE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(modelgate::core::crypto::sha256_hex(ss.str()), MODELGATE_ABI_HASH)
        << "abi.h changed; see the comment at the top of this test";
    EXPECT_EQ(MG_ABI_MAJOR, 1);
    EXPECT_EQ(MG_ABI_MINOR, 3);
}

TEST(AbiContract, FrozenPrefixOfTheDescriptor) {
    // A host of any version reads these three fields to refuse precisely.
    EXPECT_EQ(offsetof(mg_plugin_descriptor, struct_size), 0u);
    EXPECT_EQ(offsetof(mg_plugin_descriptor, abi_major), 4u);
    EXPECT_EQ(offsetof(mg_plugin_descriptor, abi_minor), 6u);
    EXPECT_EQ(sizeof(mg_str), 16u);
    EXPECT_EQ(sizeof(mg_sink), 16u);
}
