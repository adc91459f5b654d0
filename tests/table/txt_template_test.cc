// TXT template expansion, reference/rbldnsd.md §3.
#include "meshbl/table/txt_template.h"

#include <string>

#include "gtest/gtest.h"

namespace meshbl::table {
namespace {

struct Case {
  const char* what;
  const char* entry;  // nullptr = the entry has no TXT
  const char* base;   // nullptr = no $= base template
  const char* want;
};

std::string ExpandCase(const Case& c) {
  TxtContext ctx;
  ctx.vars[1] = "one";
  ctx.has_var[1] = true;
  ctx.vars[2] = "$x";  // values are inserted raw, no recursion
  ctx.has_var[2] = true;
  if (c.base != nullptr) {
    ctx.base = c.base;
    ctx.has_base = true;
  }
  char out[kMaxTxtExpansion];
  std::size_t n = ExpandTxt(ctx, c.entry ? c.entry : "", c.entry != nullptr, "1.2.3.4", out);
  return std::string(out, n);
}

TEST(ExpandTxt, ReferenceRules) {
  const Case cases[] = {
      {"plain text", "listed", nullptr, "listed"},
      {"$ is the subject", "see $ now", nullptr, "see 1.2.3.4 now"},
      {"$ at end of string", "ip $", nullptr, "ip 1.2.3.4"},
      {"$$ is a dollar", "cost $$5", nullptr, "cost $5"},
      {"$N variable", "a $1 b", nullptr, "a one b"},
      {"unset $N stays literal", "a $7 b", nullptr, "a $7 b"},
      {"variable inserted raw", "$2", nullptr, "$x"},
      {"$ before other char", "$x", nullptr, "1.2.3.4x"},
      {"no entry text, no base", nullptr, nullptr, ""},
      {"base wraps entry raw", "why $", "[$=] for $", "[why $] for 1.2.3.4"},
      {"base without entry text uses subject", nullptr, "[$=]", "[1.2.3.4]"},
      {"empty entry text uses subject", "", "[$=]", "[1.2.3.4]"},
      {"= bypasses base", "=own $", "[$=]", "own 1.2.3.4"},
      {"$= inside = text is the text", "=x$=y", "[$=]", "xx$=yy"},
      {"= alone gives no TXT", "=", "[$=]", ""},
      {"empty base is no base", "t", "", "t"},
  };
  for (const Case& c : cases) EXPECT_EQ(ExpandCase(c), c.want) << c.what;
}

TEST(ExpandTxt, OutputCappedAt254Bytes) {
  TxtContext ctx;
  std::string long_text(300, 'a');
  char out[kMaxTxtExpansion];
  EXPECT_EQ(ExpandTxt(ctx, long_text, true, "s", out), 254u);
  std::string subj(200, 'b');
  EXPECT_EQ(ExpandTxt(ctx, "$ $ $", true, subj, out), 254u);
}

}  // namespace
}  // namespace meshbl::table
