// Beast built once as a compiled library (separate compilation); Asio's part is in
// base/asio_impl.cc.
#include <boost/beast/src.hpp>
