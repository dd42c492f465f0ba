#include "services/lambda/names.h"

#include <gtest/gtest.h>

#include "services/lambda/errors.h"

namespace lambent::lambda {
namespace {

const Names kNames{"us-east-1", "000000000000"};

TEST(Names, ParsesEveryFunctionNameForm) {
  auto r = parse_function_ref("my-fn", kNames);
  EXPECT_EQ(r.name, "my-fn");
  EXPECT_FALSE(r.qualifier);
  r = parse_function_ref("my-fn:$LATEST", kNames);
  EXPECT_EQ(*r.qualifier, "$LATEST");
  r = parse_function_ref("000000000000:function:my-fn:3", kNames);
  EXPECT_EQ(r.name, "my-fn");
  EXPECT_EQ(*r.qualifier, "3");
  r = parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:my_fn", kNames);
  EXPECT_EQ(r.name, "my_fn");
  EXPECT_EQ(kNames.function_arn("f"), "arn:aws:lambda:us-east-1:000000000000:function:f");
}

TEST(Names, RejectsMalformedAndForeign) {
  auto status = [](std::string_view v) {
    try {
      parse_function_ref(v, kNames);
    } catch (const aws::ServiceError& e) {
      return e.code;
    }
    return std::string("ok");
  };
  EXPECT_EQ(status("bad name"), "ValidationException");
  EXPECT_EQ(status(""), "ValidationException");
  EXPECT_EQ(status(std::string(65, 'a')), "ValidationException");
  EXPECT_EQ(status("a:b:c:d:e"), "ValidationException");
  EXPECT_EQ(status("arn:aws:lambda:eu-west-1:000000000000:function:f"),
            "ResourceNotFoundException");
  EXPECT_EQ(status("arn:aws:lambda:us-east-1:111111111111:function:f"),
            "ResourceNotFoundException");
}

TEST(Names, QualifiersMustAgree) {
  FunctionRef ref{"f", std::string("1")};
  EXPECT_EQ(*merge_qualifier(ref, std::string("1")), "1");
  EXPECT_THROW(merge_qualifier(ref, std::string("2")), aws::ServiceError);
  EXPECT_EQ(*merge_qualifier(FunctionRef{"f", std::nullopt}, std::string("$LATEST")), "$LATEST");
}

}  // namespace
}  // namespace lambent::lambda
