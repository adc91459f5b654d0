// Snapshot images: written atomically, opened by mmap, and validated so that
// a truncated, corrupted or hostile file is rejected with a clear error and
// never crashes a lookup.
#include "meshbl/table/snapshot.h"

#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "meshbl/util/mapped_file.h"
#include "tests/table/reseal.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

namespace f = format;
using testing::Ask;
using testing::Ip4;
using testing::Labels;
using testing::Val;

std::vector<std::uint8_t> SampleImage() {
  SnapshotBuilder b;
  auto ip = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:a");
  Value v = Val(2, "listed $");
  for (std::uint32_t i = 0; i < 200; ++i)
    ip->AddIp4Range(Ip4("10.0.0.0") + i, Ip4("10.0.0.0") + i, &v);
  ip->AddIp4Range(Ip4("10.1.0.0"), Ip4("10.1.255.255"), &v);
  auto dn = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:b");
  dn->AddName(Labels("spam.example"), false, &v);
  dn->AddName(Labels("wild.example"), true, &v);
  auto gen = std::make_unique<DatasetBuilder>(DatasetType::kGeneric, "generic:c");
  gen->AddGenericRecord(Labels("x"), kTypeA, 60, std::string("\x7f\0\0\x09", 4));
  auto comb = std::make_unique<DatasetBuilder>(DatasetType::kCombined, "combined:d");
  comb->AddSubDataset(DatasetType::kIp4Trie, Labels("t"))->AddIp4Prefix(Ip4("10.0.0.0"), 8, &v);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ip)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(dn)));
  b.AddToZone(Labels("g.test"), b.AdoptDataset(std::move(gen)));
  b.AddToZone(Labels("c.test"), b.AdoptDataset(std::move(comb)));
  return b.Build(1700000000);
}

using testing::Reseal;

std::string OpenError(std::vector<std::uint8_t> img) {
  auto s = Snapshot::FromImage(std::move(img), "x.mbs");
  return s.ok() ? "ok" : std::string(s.status().message());
}

TEST(Snapshot, WrittenAtomicallyAndOpenedByMmap) {
  auto dir = std::filesystem::temp_directory_path() / ("meshbl_snap_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "a.mbs").string();
  auto img = SampleImage();
  ASSERT_TRUE(util::WriteFileAtomically(path, img).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto snap = Snapshot::Open(path);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ((*snap)->bytes().size(), img.size());
  EXPECT_EQ((*snap)->datasets().size(), 5u);  // combined + its child
  auto zs = ZoneSet::Create({*snap});
  ASSERT_TRUE(zs.ok());
  EXPECT_EQ(Ask(**zs, "5.0.0.10.bl.test", kTypeTxt), "NOERROR TXT=listed 10.0.0.5/2100");
  EXPECT_EQ(Ask(**zs, "a.wild.example.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(**zs, "x.g.test"), "NOERROR A=127.0.0.9/60");
  EXPECT_EQ(Ask(**zs, "1.2.3.10.t.c.test"), "NOERROR A=127.0.0.2/2100");
  std::filesystem::remove_all(dir);
}

TEST(Snapshot, MissingFileNamesThePath) {
  auto s = Snapshot::Open("/nonexistent/x.mbs");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/x.mbs"), std::string::npos);
}

TEST(Snapshot, EveryTruncationIsRejected) {
  auto img = SampleImage();
  for (std::size_t len = 0; len < img.size(); len += (len < 256 ? 1 : 61)) {
    std::vector<std::uint8_t> cut(img.begin(), img.begin() + static_cast<long>(len));
    std::string err = OpenError(std::move(cut));
    EXPECT_NE(err, "ok") << "length " << len;
    EXPECT_NE(err.find("x.mbs: invalid snapshot"), std::string::npos) << err;
  }
}

TEST(Snapshot, AnyFlippedByteIsRejected) {
  auto img = SampleImage();
  for (std::size_t i = 0; i < img.size(); ++i) {
    auto bad = img;
    bad[i] ^= 0x41;
    // Padding between sections is covered by no checksum; everything else is.
    std::string err = OpenError(std::move(bad));
    if (err == "ok") {
      f::FileHeader h;
      std::memcpy(&h, img.data(), sizeof h);
      auto* s = reinterpret_cast<const f::SectionEntry*>(img.data() + h.section_table_offset);
      bool covered = i < sizeof h;
      for (std::uint32_t k = 0; k < h.section_count; ++k) {
        covered |= i >= s[k].offset && i < s[k].offset + s[k].size;
      }
      covered |= i >= h.section_table_offset;
      EXPECT_FALSE(covered) << "flip at " << i << " accepted";
    }
  }
}

TEST(Snapshot, BadMagicAndVersionAreNamed) {
  auto img = SampleImage();
  img[0] = 'X';
  EXPECT_NE(OpenError(img).find("bad magic"), std::string::npos);
  img = SampleImage();
  f::FileHeader h;
  std::memcpy(&h, img.data(), sizeof h);
  h.version = 99;
  std::memcpy(img.data(), &h, sizeof h);
  Reseal(img);
  EXPECT_NE(OpenError(img).find("format version 99"), std::string::npos);
}

TEST(Snapshot, HostileStructureWithValidChecksumsIsRejected) {
  auto base = SampleImage();
  f::FileHeader h;
  std::memcpy(&h, base.data(), sizeof h);
  auto section_of = [&](std::vector<std::uint8_t>& img, f::SectionKind kind) -> f::SectionEntry* {
    auto* s = reinterpret_cast<f::SectionEntry*>(img.data() + h.section_table_offset);
    for (std::uint32_t k = 0; k < h.section_count; ++k) {
      if (s[k].kind == kind) return &s[k];
    }
    return nullptr;
  };
  {  // a dataset that points at a section index past the table
    auto img = base;
    auto* ds = section_of(img, f::SectionKind::kDatasets);
    auto* rec = reinterpret_cast<f::DatasetRec*>(img.data() + ds->offset);
    rec[0].tables[0] = 1000;
    Reseal(img);
    EXPECT_NE(OpenError(img).find("bad section index"), std::string::npos);
  }
  {  // a zone whose dataset list runs past the pool
    auto img = base;
    auto* zs = section_of(img, f::SectionKind::kZones);
    auto* z = reinterpret_cast<f::ZoneRec*>(img.data() + zs->offset);
    z[0].ds_count = 1u << 30;
    Reseal(img);
    EXPECT_NE(OpenError(img).find("bad dataset list"), std::string::npos);
  }
  {  // a section that claims to extend past the end of the file
    auto img = base;
    section_of(img, f::SectionKind::kStrings)->size = 1ULL << 40;
    Reseal(img);
    EXPECT_NE(OpenError(img).find("out of bounds"), std::string::npos);
  }
  {  // table geometry that does not match its section size
    auto img = base;
    auto* s = reinterpret_cast<f::SectionEntry*>(img.data() + h.section_table_offset);
    for (std::uint32_t k = 0; k < h.section_count; ++k) {
      if (s[k].kind != f::SectionKind::kTable) continue;
      auto* th = reinterpret_cast<f::TableHeader*>(img.data() + s[k].offset);
      th->capacity += 5;
      break;
    }
    Reseal(img);
    EXPECT_NE(OpenError(img).find("inconsistent geometry"), std::string::npos);
  }
}

TEST(Snapshot, GarbageSlotValuesNeverCrashLookups) {
  // Slot contents are not validated one by one at open (that would cost a
  // pass over every entry); lookups bounds-check every reference instead.
  auto img = SampleImage();
  f::FileHeader h;
  std::memcpy(&h, img.data(), sizeof h);
  auto* s = reinterpret_cast<f::SectionEntry*>(img.data() + h.section_table_offset);
  std::mt19937 rng(1);
  for (std::uint32_t k = 0; k < h.section_count; ++k) {
    if (s[k].kind != f::SectionKind::kTable && s[k].kind != f::SectionKind::kRecords) continue;
    std::size_t start =
        s[k].offset + (s[k].kind == f::SectionKind::kTable ? sizeof(f::TableHeader) : 0);
    for (std::size_t i = start; i < s[k].offset + s[k].size; ++i) {
      img[i] = static_cast<std::uint8_t>(rng());
    }
  }
  Reseal(img);
  auto snap = Snapshot::FromImage(img, "garbage");
  ASSERT_TRUE(snap.ok()) << snap.status();
  auto zs = ZoneSet::Create({*snap});
  ASSERT_TRUE(zs.ok());
  for (const char* q : {"5.0.0.10.bl.test", "a.wild.example.bl.test", "spam.example.bl.test",
                        "x.g.test", "1.2.3.10.t.c.test"}) {
    for (std::uint16_t t : {kTypeA, kTypeTxt, kTypeAny}) Ask(**zs, q, t);
  }
}

}  // namespace
}  // namespace meshbl::table
