#include "testing/files.h"

#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"

namespace conch::test {
namespace {

TEST(FilesTest, MakeTempDirCreatesDistinctPrivateDirectories) {
  absl::StatusOr<std::string> a = MakeTempDir("files-test-");
  absl::StatusOr<std::string> b = MakeTempDir("files-test-");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(*a, *b);
  struct stat st;
  ASSERT_EQ(stat(a->c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700);
  EXPECT_TRUE(RemoveTree(*a).ok());
  EXPECT_TRUE(RemoveTree(*b).ok());
  EXPECT_NE(stat(a->c_str(), &st), 0);
}

TEST(FilesTest, PreferShmStillYieldsAWritableDirectory) {
  absl::StatusOr<std::string> dir = MakeTempDir("files-test-", true);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(WriteFile(*dir + "/f", "x").ok());
  EXPECT_TRUE(RemoveTree(*dir).ok());
}

TEST(FilesTest, WriteThenReadRoundTripsAndRemoveTreeIsRecursive) {
  absl::StatusOr<std::string> dir = MakeTempDir("files-test-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_EQ(mkdir((*dir + "/sub").c_str(), 0700), 0);
  const std::string path = *dir + "/sub/data";
  const std::string contents("line1\n\0binary", 13);
  ASSERT_TRUE(WriteFile(path, contents).ok());
  absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
  EXPECT_TRUE(RemoveTree(*dir).ok());
  EXPECT_FALSE(ReadFile(path).ok());
  EXPECT_TRUE(RemoveTree(*dir).ok()) << "removing a missing path is OK";
}

TEST(FilesTest, ReadFileOfMissingPathIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/conch/file").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FilesTest, LastLines) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(LastLines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(LastLines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(LastLines("", 3), "");
  EXPECT_EQ(LastLines("a\n", 0), "");
}

}  // namespace
}  // namespace conch::test
