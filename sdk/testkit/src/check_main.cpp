// modelgate-plugin-check PATH.so [--fixtures DIR] [--rounds N] [gtest flags]
// Runs the conformance kit against one provider plugin.
#include <gtest/gtest.h>

#include <iostream>
#include <modelgate/testkit/testkit.hpp>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    modelgate::testkit::Options options;
    std::string error;
    if (!modelgate::testkit::parse_args(argc, argv, options, error)) {
        std::cerr << "modelgate-plugin-check: " << error << "\n"
                  << "usage: modelgate-plugin-check PATH.so [--fixtures DIR] [--rounds N] "
                     "[--gtest_...]\n";
        return 2;
    }
    modelgate::testkit::register_conformance_tests(options);
    return RUN_ALL_TESTS();
}
