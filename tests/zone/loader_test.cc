// Golden tests for the rbldnsd dataset loader: every tests/zone/data/NN-case.in
// is loaded and compared with NN-case.out (table::DumpDataset output followed
// by one `warning FILE:LINE: message` line per warning, or `ERROR=<fragment>
// line=N` for a load that must fail). Header lines of a .in file:
//   # type: ip4set            dataset type (first line, required)
//   # opts: -e -C -t 30:10:60 now=N gzip crlf nonl
// `gzip`/`crlf`/`nonl` transform the bytes at test time (gzip-compress, LF ->
// CRLF, drop the final newline) so no binary or CRLF file is committed.
// A line `#=== next file` starts the next file of a multi-file dataset.
// Set MESHBL_UPDATE_GOLDEN=1 to rewrite the .out files (then review them
// against reference/rbldnsd.md before committing).
#include "meshbl/zone/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "meshbl/table/builder.h"

namespace meshbl::zone {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gzip(std::string_view text) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct GoldenCase {
  table::DatasetType type = table::DatasetType::kIp4Set;
  LoadOptions options;
  std::vector<SourceText> files;
};

// Parses the header and splits the .in text into files.
GoldenCase ParseCase(const std::string& in) {
  GoldenCase c;
  c.options.now = 2000000000;  // 2033-05-18: fixed "now" for $TIMESTAMP
  bool gzip = false, crlf = false, nonl = false;
  std::vector<std::string> texts(1);
  std::istringstream lines(in);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (first) {
      EXPECT_EQ(line.rfind("# type: ", 0), 0u) << "first line must be `# type: <type>`";
      auto t = table::DatasetTypeFromName(line.substr(8));
      EXPECT_TRUE(t.has_value()) << line;
      if (t) c.type = *t;
      first = false;
    } else if (line.rfind("# opts:", 0) == 0) {
      for (const std::string& w : Words(std::string_view(line).substr(7))) {
        if (w == "-e") c.options.accept_host_bits = true;
        if (w == "-C") c.options.allow_gzip = false;
        if (w == "gzip") gzip = true;
        if (w == "crlf") crlf = true;
        if (w == "nonl") nonl = true;
        if (w.rfind("now=", 0) == 0) c.options.now = std::stoll(w.substr(4));
        if (w.rfind("-t", 0) == 0 && w.size() > 2) {
          unsigned d = 0, mn = 0, mx = 0;
          EXPECT_EQ(std::sscanf(w.c_str() + 2, "%u:%u:%u", &d, &mn, &mx), 3) << w;
          c.options.default_ttl = d;
          c.options.min_ttl = mn;
          c.options.max_ttl = mx;
        }
      }
    }
    if (line == "#=== next file") {
      texts.emplace_back();
      continue;
    }
    texts.back() += line;
    texts.back() += '\n';
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string bytes = texts[i];
    if (crlf) {
      std::string t;
      for (char ch : bytes) {
        if (ch == '\n') t += '\r';
        t += ch;
      }
      bytes = t;
    }
    if (nonl && !bytes.empty() && bytes.back() == '\n') bytes.pop_back();
    if (gzip) bytes = Gzip(bytes);
    c.files.push_back({"file" + std::to_string(i + 1), bytes});
  }
  return c;
}

std::string Render(const absl::StatusOr<LoadedDataset>& r) {
  if (!r.ok()) return std::string(r.status().message());
  std::string out = table::DumpDataset(*r->dataset);
  for (const Diagnostic& d : r->warnings) out += "warning " + d.ToString() + "\n";
  return out;
}

std::vector<fs::path> GoldenInputs() {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(MESHBL_ZONE_TESTDATA)) {
    if (e.path().extension() == ".in") v.push_back(e.path());
  }
  std::sort(v.begin(), v.end());
  return v;
}

TEST(LoaderGolden, AllCases) {
  const bool update = std::getenv("MESHBL_UPDATE_GOLDEN") != nullptr;
  const auto inputs = GoldenInputs();
  ASSERT_GE(inputs.size(), 20u);
  for (const fs::path& in_path : inputs) {
    SCOPED_TRACE(in_path.filename().string());
    GoldenCase c = ParseCase(ReadFile(in_path));
    absl::StatusOr<LoadedDataset> r = LoadDatasetFromText(c.type, "test:spec", c.files, c.options);
    fs::path out_path = in_path;
    out_path.replace_extension(".out");
    std::string expected = ReadFile(out_path);
    if (expected.rfind("ERROR=", 0) == 0) {
      // ERROR=<fragment> line=N
      std::string spec = expected.substr(6);
      while (!spec.empty() && spec.back() == '\n') spec.pop_back();
      const std::size_t at = spec.rfind(" line=");
      ASSERT_NE(at, std::string::npos) << expected;
      const std::string fragment = spec.substr(0, at);
      const std::string line = spec.substr(at + 6);
      ASSERT_FALSE(r.ok()) << "expected failure, got:\n" << Render(r);
      const std::string msg(r.status().message());
      EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
      if (line != "0") {
        EXPECT_NE(msg.find(":" + line + ": "), std::string::npos) << msg;
      }
      continue;
    }
    const std::string got = Render(r);
    if (update) {
      std::ofstream(out_path, std::ios::binary) << got;
      continue;
    }
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(got, expected);
  }
}

LoadedDataset MustLoad(table::DatasetType type, std::vector<SourceText> files,
                       LoadOptions opts = {}) {
  auto r = LoadDatasetFromText(type, "t", files, opts);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  return std::move(*r);
}

TEST(Loader, DiskFilesLoadLikeText) {
  const fs::path dir = fs::temp_directory_path() / ("meshbl_zone_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string f1 = (dir / "a.txt").string();
  const std::string f2 = (dir / "b.gz").string();
  std::ofstream(f1) << ":3:first\n10.0.0.1\n";
  std::ofstream(f2, std::ios::binary) << Gzip("10.0.0.2\n");
  const std::vector<std::string> files = {f1, f2};
  auto r = LoadDataset(table::DatasetType::kIp4Set, "ip4set:a.txt,b.gz", files, {});
  ASSERT_TRUE(r.ok()) << r.status();
  // §2 per-file default reset: the second file uses the built-in default.
  EXPECT_EQ(table::DumpDataset(*r->dataset),
            "type ip4set\nttl 2100\n"
            "ip4/32 10.0.0.1 = 127.0.0.3 \"first\"\n"
            "ip4/32 10.0.0.2 = 127.0.0.2 -\n");
  const std::vector<std::string> missing = {(dir / "nope").string()};
  auto bad = LoadDataset(table::DatasetType::kIp4Set, "ip4set:nope", missing, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nope: unable to open file"), std::string_view::npos);
  LoadOptions no_gzip;
  no_gzip.allow_gzip = false;
  auto gz = LoadDataset(table::DatasetType::kIp4Set, "ip4set:b.gz", std::vector<std::string>{f2},
                        no_gzip);
  ASSERT_FALSE(gz.ok());
  EXPECT_EQ(gz.status().message(), f2 + ": gzip compression not supported (-C)");
  fs::remove_all(dir);
}

TEST(Loader, AclKeywordDefaultThenValuedEntryUsesBuiltinDefault) {
  // §4.9 bug / §9: rbldnsd segfaults here; meshbl loads with 127.0.0.2.
  auto ds = MustLoad(table::DatasetType::kAcl,
                     {{"acl", ":refuse\n10.0.0.0/8 some text\n10.1.0.0/16 :5\n10.2.0.0/16\n"}});
  EXPECT_EQ(table::DumpDataset(*ds.dataset),
            "type acl\nttl 2100\n"
            "acl4 10.0.0.0/8 always = 127.0.0.2 \"some text\"\n"
            "acl4 10.1.0.0/16 always = 127.0.0.5 -\n"
            "acl4 10.2.0.0/16 refuse\n");
  EXPECT_TRUE(ds.warnings.empty());
}

TEST(Loader, WarningsCarryFileAndLine) {
  auto ds = MustLoad(table::DatasetType::kIp4Set, {{"f.txt", "1.2.3.4\nbogus\n"}});
  ASSERT_EQ(ds.warnings.size(), 1u);
  EXPECT_EQ(ds.warnings[0].ToString(), "f.txt:2: invalid address");
}

TEST(Loader, LongLineIsTruncatedWithWarning) {
  // §2 a line over 32 KiB: warning, the first 32 KiB are parsed, the rest of
  // the line is skipped and the next line is read normally.
  std::string text = "1.2.3.4 :2:" + std::string(40000, 'x') + "\n1.2.3.5\n";
  auto ds = MustLoad(table::DatasetType::kIp4Set, {{"f", text}});
  ASSERT_EQ(ds.warnings.size(), 2u);
  EXPECT_EQ(ds.warnings[0].ToString(), "f:1: long line (truncated)");
  EXPECT_EQ(ds.warnings[1].ToString(), "f:1: TXT RR truncated to 255 bytes");
  EXPECT_EQ(ds.dataset->entry_count(), 2u);
}

TEST(Loader, MillionLinesAllLoad) {
  // A large file loads completely: every line becomes an entry, none is lost
  // at buffer boundaries. (Speed is measured by bench/, not asserted here.)
  std::string text;
  text.reserve(16 * 1000000);
  for (std::uint32_t i = 0; i < 1000000; ++i) {
    text += std::to_string(10 + (i >> 16 & 0x3f)) + "." + std::to_string(i >> 8 & 255) + "." +
            std::to_string(i & 255) + ".1\n";
  }
  auto ds = MustLoad(table::DatasetType::kIp4Set, {{"big", text}});
  EXPECT_TRUE(ds.warnings.empty());
  EXPECT_EQ(ds.dataset->entry_count(), 1000000u);
}

}  // namespace
}  // namespace meshbl::zone
