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
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "meshbl/table/builder.h"
#include "meshbl/util/mapped_file.h"

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

// ---- Snapshot images are byte-identical to the ones the builder wrote
// before its memory work (issue 9 item 6): generated data of every dataset
// type, multi-value keys, exclusions, every ip4 block level, loaded and
// built into one image whose XXH3 is pinned. A change of these hashes means
// the image format changed: bump format::kFormatVersion, not the hashes.

// A deterministic generator (std::mt19937 is fully specified by the
// standard; no distribution objects, whose output is not).
class Gen {
 public:
  explicit Gen(std::uint32_t seed) : rng_(seed) {}
  std::uint32_t operator()(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  std::string Ip4() {
    std::uint32_t a = static_cast<std::uint32_t>(rng_());
    return absl::StrCat(a >> 24, ".", a >> 16 & 255, ".", a >> 8 & 255, ".", a & 255);
  }
  std::string Value() {
    switch ((*this)(5)) {
      case 0:
        return "";
      case 1:
        return absl::StrCat(" :127.0.0.", 2 + (*this)(6), ":");
      case 2:
        return absl::StrCat(" :127.0.", (*this)(3), ".", 2 + (*this)(3), ":listed $ v", (*this)(4));
      case 3:
        return absl::StrCat(" listed as ", (*this)(7));
      default:
        return " :3:";
    }
  }

 private:
  std::mt19937 rng_;
};

// `n` lines of dataset type `type`; keys repeat (multi-value merges).
std::string GenText(table::DatasetType type, std::uint32_t n, std::uint32_t seed) {
  Gen g(seed);
  std::string t =
      "$TTL 300\n:127.0.0.2:default $\n$SOA 600 ns.example. hm.example. 7 1h 5m 1d 1h\n"
      "$NS 600 ns1.example.\n$1 one\n";
  std::vector<std::string> keys;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!keys.empty() && g(8) == 0) {  // a key again, maybe with another value
      absl::StrAppend(&t, keys[g(static_cast<std::uint32_t>(keys.size()))], g.Value(), "\n");
      continue;
    }
    if (g(50) == 0) absl::StrAppend(&t, ":127.0.0.", 2 + g(5), ":scope ", g(9), "\n");
    if (g(40) == 0) absl::StrAppend(&t, "# comment ", i, "\n");
    std::string key;
    const std::string ip = g.Ip4();
    const std::uint32_t a = static_cast<std::uint32_t>(std::stoul(ip.substr(0, ip.find('.'))));
    switch (type) {
      case table::DatasetType::kIp4Set:
        switch (g(10)) {
          case 0:
            key = absl::StrCat(a, ".", g(256), ".", g(256), ".0/24");
            break;
          case 1:
            key = absl::StrCat(a, ".", g(256), ".0.0/16");
            break;
          case 2:
            key = absl::StrCat(a, ".0.0.0/", 8 + g(3));
            break;
          case 3:
            key = absl::StrCat(a, ".", g(256), ".", g(256), ".0/", 20 + g(10) / 3 * 3);
            break;
          case 4:
            key = absl::StrCat("!", ip);
            break;
          case 5: {
            std::uint32_t b = g(256);
            key = absl::StrCat(a, ".1.", b, ".7-", a, ".1.", b, ".", 7 + g(300) % 249);
            break;
          }
          default:
            key = ip;
        }
        break;
      case table::DatasetType::kIp4TSet:
        key = ip;
        break;
      case table::DatasetType::kIp4Trie:
        key = (g(9) == 0 ? "!" : "") + absl::StrCat(a, ".", g(256), ".0.0/", 16 + g(17) % 9);
        if (g(3) == 0) key = ip;
        if (key.back() == '/') key += "32";
        break;
      case table::DatasetType::kIp6Trie:
        key = absl::StrCat("2001:db8:", absl::Hex(g(65536)), ":", absl::Hex(g(65536)), "::/",
                           32 + g(33));
        break;
      case table::DatasetType::kIp6TSet:
        key = g(7) == 0 ? absl::StrCat("!2001:db8:", absl::Hex(g(9)), "::", absl::Hex(g(65536)))
                        : absl::StrCat("2001:db8:", absl::Hex(g(65536)), ":", absl::Hex(g(65536)));
        break;
      case table::DatasetType::kDnSet:
        key = absl::StrCat(g(9) == 0 ? "!" : "",
                           g(5) == 0   ? "*."
                           : g(6) == 0 ? "."
                                       : "",
                           "h", g(n), ".d", g(97), ".Example");
        break;
      case table::DatasetType::kGeneric:
        key = absl::StrCat("n", g(n / 2 + 1), (g(3) == 0 ? " 60" : ""),
                           g(3) == 0   ? absl::StrCat(" A ", ip)
                           : g(2) == 0 ? absl::StrCat(" TXT \"text ", g(99), "\"")
                                       : absl::StrCat(" MX ", g(20), " mx", g(5), ".example."));
        absl::StrAppend(&t, key, "\n");
        continue;
      default:
        key = ip;
    }
    keys.push_back(key);
    absl::StrAppend(&t, key, type == table::DatasetType::kIp4TSet ? "" : g.Value(), "\n");
  }
  return t;
}

std::uint64_t GoldenImageHash(std::uint32_t n) {
  using T = table::DatasetType;
  table::SnapshotBuilder sb;
  LoadOptions opt;
  opt.accept_host_bits = true;
  opt.now = 2000000000;
  const std::pair<T, std::string_view> kinds[] = {
      {T::kIp4Set, "ip4set"},   {T::kIp4TSet, "ip4tset"}, {T::kIp4Trie, "ip4trie"},
      {T::kIp6Trie, "ip6trie"}, {T::kIp6TSet, "ip6tset"}, {T::kDnSet, "dnset"},
      {T::kGeneric, "generic"}};
  std::uint32_t seed = n;
  for (const auto& [type, name] : kinds) {
    std::vector<SourceText> files = {{std::string(name) + ".txt", GenText(type, n, ++seed)}};
    auto loaded = LoadDatasetFromText(type, std::string(name) + ":f", files, opt);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok()) return 0;
    table::DatasetBuilder* ds = sb.AdoptDataset(std::move(loaded->dataset));
    std::string zone(1, static_cast<char>(name.size()));
    zone += std::string(name) + "\4test";
    sb.AddToZone(zone, ds);
  }
  std::string combined = "$DATASET ip4set @\n" + GenText(T::kIp4Set, n / 4, seed + 1);
  combined += "$DATASET dnset sub x.y\n" + GenText(T::kDnSet, n / 4, seed + 2);
  combined += "$DATASET generic other\n" + GenText(T::kGeneric, n / 8, seed + 3);
  std::vector<SourceText> cf = {{"combined.txt", combined}};
  auto c = LoadDatasetFromText(T::kCombined, "combined:f", cf, opt);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return 0;
  sb.AddToZone("\10combined\4test", sb.AdoptDataset(std::move(c->dataset)));
  std::vector<SourceText> af = {
      {"acl.txt",
       "10.0.0.0/8 :refuse\n10.1.0.0/16\n!10.1.2.0/24\n2001:db8::/32 =empty\n"
       "192.0.2.0/24 :127.0.0.9:acl $\n0.0.0.0/0 =pass\n"}};
  auto acl = LoadDatasetFromText(T::kAcl, "acl:f", af, opt);
  EXPECT_TRUE(acl.ok()) << acl.status();
  if (!acl.ok()) return 0;
  sb.AddToZone("", sb.AdoptDataset(std::move(acl->dataset)));
  std::vector<std::uint8_t> image = sb.Build(1700000000);
  return XXH3_64bits(image.data(), image.size());
}

TEST(LoaderImage, ImagesAreByteIdenticalToThePinnedBuilds) {
  // Pinned from the builder before the issue-9 memory changes.
  const std::pair<std::uint32_t, std::uint64_t> kPinned[] = {{1, 17116280911946013803ULL},
                                                             {50, 1321373832248533565ULL},
                                                             {3000, 14547503516039490750ULL},
                                                             {40000, 8757219953961950804ULL}};
  for (const auto& [n, hash] : kPinned) {
    EXPECT_EQ(GoldenImageHash(n), hash) << "n = " << n;
  }
}

}  // namespace
}  // namespace meshbl::zone

namespace meshbl::zone {
namespace {

TEST(LoaderImage, FilesOverSeveralReleaseStepsLoadAsTheSameText) {
  // LoadDataset drops the pages of a mapped file behind the parser every
  // 8 MiB; what it loads must not differ from the same bytes parsed in
  // memory (lines that straddle a dropped boundary included).
  using T = table::DatasetType;
  char tmpl[] = "/tmp/meshbl-loader-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  LoadOptions opt;
  opt.accept_host_bits = true;
  opt.now = 2000000000;
  for (const auto& [type, lines] :
       {std::pair{T::kIp4Set, 1200000u}, std::pair{T::kDnSet, 800000u}}) {
    // Many short lines of every kind the parser copies out of the text
    // (keys, values with TXT, names, warnings), over 16 MiB.
    Gen g(lines);
    std::string text;
    for (std::uint32_t i = 0; i < lines; ++i) {
      if (g(1000) == 0) absl::StrAppend(&text, ":127.0.0.", 2 + g(9), ":scope ", i, "\n");
      if (g(5000) == 0) absl::StrAppend(&text, "bad line ", i, "\n");
      std::string key =
          type == T::kDnSet ? absl::StrCat("n", g(lines), ".d", g(97), ".example") : g.Ip4();
      if (type == T::kIp4Set && g(20) == 0) key = key.substr(0, key.rfind('.')) + ".0/24";
      absl::StrAppend(&text, g(30) == 0 ? "!" : "", key, g(4) == 0 ? g.Value() : "", "\n");
    }
    ASSERT_GT(text.size(), 2u * (8u << 20));  // two pages drops at least
    const std::string path = dir + "/data.txt";
    {
      std::ofstream out(path, std::ios::binary);
      out << text;
    }
    std::vector<std::string> files = {path};
    auto from_file = LoadDataset(type, "x:f", files, opt);
    ASSERT_TRUE(from_file.ok()) << from_file.status();
    std::vector<SourceText> mem = {{path, text}};
    auto from_text = LoadDatasetFromText(type, "x:f", mem, opt);
    ASSERT_TRUE(from_text.ok()) << from_text.status();
    EXPECT_EQ(from_file->dataset->entry_count(), from_text->dataset->entry_count());
    auto stamp = util::StatFile(path);
    ASSERT_TRUE(stamp.ok());
    from_text->dataset->AddSource({path, stamp->mtime, stamp->size});
    std::vector<std::uint8_t> images[2];
    for (int k = 0; k < 2; ++k) {
      table::SnapshotBuilder sb;
      auto& ds = k == 0 ? from_file->dataset : from_text->dataset;
      sb.AddToZone("\2bl\4test", sb.AdoptDataset(std::move(ds)));
      images[k] = sb.Build(1700000000);
    }
    EXPECT_TRUE(images[0] == images[1]);
    ASSERT_EQ(from_file->warnings.size(), from_text->warnings.size());
    for (std::size_t i = 0; i < from_file->warnings.size(); ++i) {
      EXPECT_EQ(from_file->warnings[i].ToString(), from_text->warnings[i].ToString());
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::zone
