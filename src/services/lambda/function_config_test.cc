#include "services/lambda/function_config.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "services/lambda/errors.h"

namespace lambent::lambda {
namespace {

// Applies a JSON body to default configuration; returns "" or "<ErrorType>: <message>".
std::string apply(std::string_view body_json, store::FunctionConfig* out = nullptr) {
  auto raw = parse_body(body_json);
  store::FunctionConfig cfg;
  try {
    apply_config(JsonObject(raw, ""), cfg);
  } catch (const aws::ServiceError& e) {
    return e.code + ": " + e.what();
  }
  if (out) *out = cfg;
  return "";
}

TEST(FunctionConfig, AcceptsAFullValidConfiguration) {
  store::FunctionConfig cfg;
  EXPECT_EQ(apply(R"({"Runtime":"python3.11","Handler":"app.handler",
      "Role":"arn:aws:iam::123456789012:role/r","MemorySize":1769,"Timeout":900,
      "EphemeralStorage":{"Size":10240},"Environment":{"Variables":{"A_1":"x"}},
      "TracingConfig":{"Mode":"Active"},"Architectures":["x86_64"],
      "LoggingConfig":{"LogFormat":"JSON","ApplicationLogLevel":"DEBUG"}})",
                  &cfg),
            "");
  EXPECT_EQ(cfg.memory_size, 1769);
  EXPECT_EQ(cfg.environment->at("A_1"), "x");
  EXPECT_EQ(cfg.log_format, "JSON");
}

TEST(FunctionConfig, ModelConstraintsAreValidationExceptions) {
  EXPECT_EQ(apply(R"({"MemorySize":64})"),
            "ValidationException: 1 validation error detected: Value '64' at 'memorySize' failed "
            "to satisfy constraint: Member must have value greater than or equal to 128");
  EXPECT_NE(apply(R"({"MemorySize":10241,"Timeout":0})").find("2 validation errors detected"),
            std::string::npos);
  EXPECT_EQ(apply(R"({"Timeout":901})").rfind("ValidationException", 0), 0u);
  EXPECT_EQ(apply(R"({"EphemeralStorage":{"Size":511}})").rfind("ValidationException", 0), 0u);
  EXPECT_EQ(apply(R"({"Handler":"has space"})").rfind("ValidationException", 0), 0u);
  EXPECT_EQ(apply(R"({"Role":"not-a-role"})").rfind("ValidationException", 0), 0u);
  EXPECT_EQ(apply(R"({"Runtime":"cobol9"})").rfind("ValidationException", 0), 0u);
  EXPECT_EQ(apply(R"({"Description":")" + std::string(257, 'd') + "\"}").rfind(
                "ValidationException", 0),
            0u);
  EXPECT_EQ(apply(R"({"Environment":{"Variables":{"1BAD":"x"}}})").rfind("ValidationException", 0),
            0u);
}

TEST(FunctionConfig, ServiceChecksAreInvalidParameterValue) {
  EXPECT_NE(apply(R"({"Runtime":"python2.7"})").find("no longer supported"), std::string::npos);
  std::string reserved = apply(R"({"Environment":{"Variables":{"AWS_REGION":"x"}}})");
  EXPECT_EQ(reserved.rfind("InvalidParameterValueException", 0), 0u);
  EXPECT_NE(reserved.find("AWS_REGION"), std::string::npos);
  std::string big = R"({"Environment":{"Variables":{"KEY":")" + std::string(4100, 'v') + "\"}}}";
  EXPECT_NE(apply(big).find("exceeded the 4KB limit"), std::string::npos);
  EXPECT_EQ(apply(R"({"Layers":["arn:aws:lambda:us-east-1:123456789012:layer:a:1",
      "arn:aws:lambda:us-east-1:123456789012:layer:a:2"]})")
                .rfind("InvalidParameterValueException", 0),
            0u);
}

TEST(FunctionConfig, WrongTypesAndUnknownNestedMembersAreInvalidContent) {
  EXPECT_EQ(apply(R"({"MemorySize":"big"})").rfind("InvalidRequestContentException", 0), 0u);
  EXPECT_EQ(apply(R"({"Environment":{"Variables":{"A":1}}})")
                .rfind("InvalidRequestContentException", 0),
            0u);
  EXPECT_EQ(apply(R"({"TracingConfig":{"Mode":"Active","Extra":1}})")
                .rfind("InvalidRequestContentException", 0),
            0u);
}

}  // namespace
}  // namespace lambent::lambda
