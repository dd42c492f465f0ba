// Asio and Beast built once as compiled libraries (separate compilation) instead of in every
// translation unit: the biggest single saving in build time.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
