// STS (2011-06-15, query protocol, signing name `sts`, global): GetCallerIdentity, AssumeRole
// (the role's trust policy checked; temporary credentials with a session token and an expiry)
// and GetAccessKeyInfo. Session ARNs as AWS writes them:
// arn:aws:sts::<account>:assumed-role/<role>/<session>.
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "aws/service.h"
#include "iam/access_control.h"

namespace lambent::sts {

class StsApi final {
 public:
  StsApi(iam::AccessControl& access, boost::asio::thread_pool& pool);
  aws::RpcService& service() { return service_; }
  static aws::ServiceInfo info();

 private:
  iam::AccessControl& access_;
  aws::RpcService service_;
};

}  // namespace lambent::sts
