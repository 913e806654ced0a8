// libFuzzer target: the broker's request path on arbitrary bytes. Input = one frame without its
// 4-byte size prefix: decode_request_header, then the body decode of the header's api and version
// (any version the tables know, served or not). Decoding must return a Status for every input;
// a crash, a sanitizer report or a failed GREGOR_ASSERT is a bug. What decodes must also survive
// a round trip: it re-encodes at the same version and decodes back to an equal value.
#include <cstddef>
#include <cstdint>

#include "node/kafka/api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor;
  using namespace gregor::kafka;
  Reader r(ByteView(data, size));
  Result<RequestHeader> header = decode_request_header(r);
  if (!header.ok() || !find_api(header->api_key)) return 0;
  const int16_t version = header->api_version;
  visit_api(header->api_key, [&](auto api) {
    using Request = typename decltype(api)::Request;
    Result<Request> request = decode<Request>(r, version);
    if (!request.ok()) {
      GREGOR_ASSERT(request.code() == Errc::corrupt || request.code() == Errc::out_of_range,
                    "unexpected error {}", request.status());
      return 0;
    }
    Result<Bytes> again = encode_to_bytes(*request, version);
    GREGOR_ASSERT(again.ok(), "decoded {} does not re-encode: {}", Request::message_name,
                  again.status());
    Result<Request> back = decode<Request>(*again, version);
    GREGOR_ASSERT(back.ok() && *back == *request, "{} v{} round trip differs",
                  Request::message_name, version);
    return 0;
  });
  return 0;
}
