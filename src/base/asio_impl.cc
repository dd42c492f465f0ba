// Asio built once as a compiled library (separate compilation) instead of in every translation
// unit: the biggest single saving in build time. Beast's part is in http/beast_impl.cc.
#include <boost/asio/impl/src.hpp>
// With Asio's TLS streams (HTTPS on the platform endpoint).
#include <boost/asio/ssl/impl/src.hpp>
