// The C emitter: API names follow --name, output is deterministic, and the model code neither
// allocates nor prints.
#include "TestUtils.h"
#include "driver/Compile.h"
#include "targets/TextEscape.h"

#include <gtest/gtest.h>

using namespace odlc;
using namespace odlc::test;

namespace {

CompileResult compileSmall(const std::string &name) {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4}).initializer("w", {3, 2, 3, 3}, ramp(54)).output("y");
  setAttr(b.node("Conv", {"x", "w"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"y"});
  Graph g = importModel(b);
  CompileOptions options;
  options.name = name;
  options.target = "cortex-m4";
  return compileGraph(g, options);
}

} // namespace

TEST(Emitter, NamePrefixesEverySymbolAndFile) {
  CompileResult r = compileSmall("kws");
  ASSERT_TRUE(r.files.count("kws.c") && r.files.count("kws.h") && r.files.count("kws_weights.c"));
  const std::string &h = r.files.at("kws.h");
  EXPECT_NE(h.find("#define KWS_INPUT_SIZE 32"), std::string::npos) << h;
  EXPECT_NE(h.find("#define KWS_OUTPUT_SIZE 48"), std::string::npos);
  EXPECT_NE(h.find("int kws_infer(const float *input, float *output);"), std::string::npos);
  EXPECT_NE(r.files.at("kws_weights.c").find("const float kws_w_w[54]"), std::string::npos);
}

TEST(Emitter, DeterministicAndAllocationFree) {
  CompileResult a = compileSmall("model"), b = compileSmall("model");
  EXPECT_EQ(a.files, b.files);
  for (const auto &[name, text] : a.files) {
    if (name.size() < 2 || name.substr(name.size() - 2) != ".c")
      continue;
    EXPECT_EQ(text.find("malloc"), std::string::npos) << name;
    EXPECT_EQ(text.find("printf"), std::string::npos) << name;
  }
  EXPECT_TRUE(a.files.count("memory_plan.json"));
}

TEST(Emitter, RejectsBadNames) {
  CompileOptions options;
  for (const char *bad : {"3d", "my-model", "int", "odlc_x", "", "odlc", "ODLC_LEARN", "_m"}) {
    options.name = bad;
    EXPECT_NE(errorOf([&] { validateOptions(options); }).find("is not usable as a C prefix"),
              std::string::npos)
        << bad;
  }
}

TEST(Sizes, ParsesUnitsAndRejectsGarbage) {
  EXPECT_EQ(parseSize("262144", "--ram"), 262144);
  EXPECT_EQ(parseSize("256K", "--ram"), 262144);
  EXPECT_EQ(parseSize("256KiB", "--ram"), 262144);
  EXPECT_EQ(parseSize("1M", "--ram"), 1048576);
  EXPECT_NE(errorOf([] { parseSize("12Q", "--ram"); }).find("--ram '12Q' is not a size"),
            std::string::npos);
  EXPECT_NE(errorOf([] { parseSize("", "--flash"); }).find("not a size"), std::string::npos);
}

TEST(TextEscape, NamesCannotBreakOutOfTheirText) {
  EXPECT_EQ(cCommentText("a*/b"), "a*\\/b");
  EXPECT_EQ(cCommentText("**/"), "**\\/");
  EXPECT_EQ(cCommentText("x\ny\x01"), "x\\x0ay\\x01");
  EXPECT_EQ(cCommentText("plain.name/0"), "plain.name/0");
  EXPECT_EQ(xmlText("<a & 'b'>\"\t"), "&lt;a &amp; &apos;b&apos;&gt;&quot;?");
  EXPECT_EQ(markdownCell("a|b`c\nd"), "a\\|b'c d");
}
