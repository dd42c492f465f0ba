#include "invoke/admission.h"

#include <gtest/gtest.h>

#include <string>

namespace lambent::invoke {
namespace {

// Admits `name` once: "" when admitted, else the throttle Reason.
std::string admit(Admission& a, const std::string& name, bool* unreserved_out = nullptr) {
  bool unreserved = false;
  const char* reason = a.admit(name, unreserved);
  if (unreserved_out) *unreserved_out = unreserved;
  return reason ? reason : "";
}

TEST(Admission, ReservedFunctionsRunUpToTheirReservation) {
  Admission a(10, nullptr);
  a.set_reserved("r", 2);
  EXPECT_EQ(admit(a, "r"), "");
  EXPECT_EQ(admit(a, "r"), "");
  EXPECT_EQ(admit(a, "r"), "ReservedFunctionConcurrentInvocationLimitExceeded");
  a.leave("r", false);
  EXPECT_EQ(admit(a, "r"), "");  // room again once one leaves
  EXPECT_EQ(a.throttle_counts().at("r"), 1u);
}

TEST(Admission, AZeroReservationDisablesAFunction) {
  Admission a(10, nullptr);
  a.set_reserved("off", 0);
  EXPECT_EQ(admit(a, "off"), "ReservedFunctionConcurrentInvocationLimitExceeded");
  a.set_reserved("off", std::nullopt);  // reservation removed: the shared pool again
  EXPECT_EQ(admit(a, "off"), "");
}

TEST(Admission, UnreservedFunctionsShareWhatReservationsLeave) {
  Admission a(5, nullptr);
  a.set_reserved("big", 3);  // leaves 2 of the account's 5 to everyone else
  bool unreserved = false;
  EXPECT_EQ(admit(a, "x", &unreserved), "");
  EXPECT_TRUE(unreserved);
  EXPECT_EQ(admit(a, "y"), "");
  EXPECT_EQ(admit(a, "z"), "ConcurrentInvocationLimitExceeded");
  EXPECT_EQ(admit(a, "x"), "ConcurrentInvocationLimitExceeded");
  // The reserved function is not affected by the shared pool being full.
  EXPECT_EQ(admit(a, "big", &unreserved), "");
  EXPECT_FALSE(unreserved);
  a.leave("x", true);
  EXPECT_EQ(admit(a, "z"), "");
  // A smaller reservation gives the shared pool more.
  a.set_reserved("big", 1);
  EXPECT_EQ(admit(a, "w"), "");
  EXPECT_EQ(admit(a, "v"), "");
  EXPECT_EQ(admit(a, "u"), "ConcurrentInvocationLimitExceeded");
  auto counts = a.throttle_counts();
  EXPECT_EQ(counts.at("z"), 1u);
  EXPECT_EQ(counts.at("x"), 1u);
  EXPECT_EQ(counts.at("u"), 1u);
}

}  // namespace
}  // namespace lambent::invoke
