// schema.sql is the PostgreSQL reference: applying it must give exactly the
// tables, columns and indexes the migrations give. And both dialects migrate
// idempotently.
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "support/gateway.hpp"

#ifndef MODELGATE_SOURCE_DIR
#error "MODELGATE_SOURCE_DIR must be defined"
#endif

namespace modelgate::test {

namespace {

std::set<std::string> describe(soci::session& s) {
    std::set<std::string> out;
    soci::rowset<soci::row> cols =
        (s.prepare << "SELECT table_name, column_name, data_type, is_nullable, "
                      "COALESCE(column_default, '') FROM information_schema.columns "
                      "WHERE table_schema = 'public' AND table_name <> 'schema_migrations'");
    for (const auto& r : cols) {
        std::string def = r.get<std::string>(4);
        // Sequence names differ only by the owning table; keep the kind of default.
        if (def.rfind("nextval(", 0) == 0) def = "nextval";
        out.insert("column " + r.get<std::string>(0) + "." + r.get<std::string>(1) + " " +
                   r.get<std::string>(2) + " " + r.get<std::string>(3) + " " + def);
    }
    soci::rowset<soci::row> idx =
        (s.prepare << "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                      "AND tablename <> 'schema_migrations'");
    for (const auto& r : idx)
        out.insert("index " + r.get<std::string>(0) + " " + r.get<std::string>(1));
    soci::rowset<soci::row> views =
        (s.prepare
         << "SELECT table_name FROM information_schema.views WHERE table_schema = 'public'");
    for (const auto& r : views)
        out.insert("view " + r.get<std::string>(0));
    return out;
}

}  // namespace

TEST(SchemaTest, SchemaSqlMatchesTheMigrations) {
    std::string why;
    if (!TestDatabase::postgres_available(&why)) {
        if (std::getenv("MODELGATE_TEST_SKIP_PG") != nullptr) GTEST_SKIP() << why;
        FAIL() << why;
    }
    TestDatabase migrated("postgresql"), reference("postgresql");
    soci::session a(soci::postgresql,
                    core::store::parse_database_url(migrated.url())->connect_string);
    auto applied = core::store::migrate(a, core::store::Dialect::postgresql);
    EXPECT_FALSE(applied.empty());
    EXPECT_TRUE(core::store::migrate(a, core::store::Dialect::postgresql).empty())
        << "migrations must be idempotent";

    std::ifstream in(std::string(MODELGATE_SOURCE_DIR) + "/schema.sql");
    ASSERT_TRUE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    soci::session b(soci::postgresql,
                    core::store::parse_database_url(reference.url())->connect_string);
    for (const auto& stmt : core::store::split_sql_statements(ss.str()))
        b << stmt;

    auto got = describe(a), want = describe(b);
    for (const auto& line : want)
        EXPECT_TRUE(got.count(line)) << "migrations lack: " << line;
    for (const auto& line : got)
        EXPECT_TRUE(want.count(line)) << "schema.sql lacks: " << line;
    EXPECT_GT(got.size(), 50u);
}

TEST(SchemaTest, SqliteMigratesIdempotently) {
    TestDatabase db("sqlite");
    auto url = core::store::parse_database_url(db.url());
    ASSERT_TRUE(url.ok());
    core::store::Database d(url.value(), 1);
    EXPECT_FALSE(d.migrate().empty());
    EXPECT_TRUE(d.migrate().empty());
    EXPECT_TRUE(d.ping());
}

// A transaction that reads and then writes must not fail because another
// connection (the request-log writer) committed between its read and its
// write: on SQLite a deferred BEGIN fails such a write at once with
// SQLITE_BUSY, whatever the busy timeout.
TEST(SchemaTest, SqliteReadThenWriteTransactionsWaitForOtherWriters) {
    TestDatabase db("sqlite");
    auto url = core::store::parse_database_url(db.url());
    ASSERT_TRUE(url.ok());
    core::store::Database d(url.value(), 2);
    d.with_session([](soci::session& s) { s << "CREATE TABLE t (v INTEGER)"; });

    std::mutex mu;
    std::condition_variable cv;
    bool has_read = false, other_committed = false;
    core::Status other = core::Ok{};
    std::thread writer;
    core::Status mine = d.transaction(
        [&](soci::session& s) {
            int n = -1;
            s << "SELECT COUNT(*) FROM t", soci::into(n);
            writer = std::thread([&] {
                {
                    std::lock_guard lock(mu);
                    has_read = true;
                }
                other = d.transaction([](soci::session& s2) { s2 << "INSERT INTO t VALUES (2)"; },
                                      "the other write");
                std::lock_guard lock(mu);
                other_committed = true;
                cv.notify_all();
            });
            // Give the other connection every chance to commit before we write.
            std::unique_lock lock(mu);
            cv.wait_for(lock, std::chrono::milliseconds(400), [&] { return other_committed; });
            lock.unlock();
            s << "INSERT INTO t VALUES (1)";
        },
        "the read-then-write");
    writer.join();
    EXPECT_TRUE(has_read);
    EXPECT_TRUE(mine.ok()) << mine.error().message;
    EXPECT_TRUE(other.ok()) << other.error().message;
    int rows = 0;
    d.with_session([&](soci::session& s) { s << "SELECT COUNT(*) FROM t", soci::into(rows); });
    EXPECT_EQ(rows, 2);
}

}  // namespace modelgate::test
