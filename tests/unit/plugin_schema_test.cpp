// What a feature plugin's migration may name (features/host_services.hpp,
// misnamed_object): its own tables, indexes, views and triggers, never the
// gateway's.
#include <gtest/gtest.h>

#include "features/host_services.hpp"

namespace modelgate::core::features {
namespace {

TEST(PluginSchema, OnlyNamesUnderThePluginsPrefixPass) {
    const std::string p = "kit_";
    EXPECT_EQ(misnamed_object("CREATE TABLE kit_notes (id INTEGER REFERENCES kit_x(id) ON DELETE "
                              "CASCADE); CREATE UNIQUE INDEX IF NOT EXISTS kit_i ON kit_notes (id)",
                              p),
              std::nullopt);
    EXPECT_EQ(
        misnamed_object("-- a comment naming api_keys\nALTER TABLE \"kit_notes\" ADD COLUMN x "
                        "TEXT; DROP INDEX IF EXISTS kit_i; INSERT INTO kit_notes VALUES (1)",
                        p),
        std::nullopt);
    EXPECT_EQ(misnamed_object("create table notes (id int)", p), "notes");
    EXPECT_EQ(misnamed_object("CREATE INDEX kit_idx ON request_logs (model)", p), "request_logs");
    EXPECT_EQ(
        misnamed_object("CREATE TRIGGER kit_t AFTER INSERT ON api_keys BEGIN SELECT 1; END", p),
        "api_keys");
    EXPECT_EQ(misnamed_object("DROP TABLE public.providers", p), "providers");
    EXPECT_EQ(misnamed_object("UPDATE api_keys SET is_active = 0", p), "api_keys");
    EXPECT_EQ(misnamed_object("DELETE FROM request_logs", p), "request_logs");
    EXPECT_EQ(misnamed_object("CREATE VIEW kitchen AS SELECT 1", p), "kitchen");
}

}  // namespace
}  // namespace modelgate::core::features
