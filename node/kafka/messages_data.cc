// Explicit instantiations of the codecs of messages_data.h (the templates compile once, here).
#include "node/kafka/messages_data.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(ProduceRequest);
GREGOR_KAFKA_DEFINE_CODEC(ProduceResponse);
GREGOR_KAFKA_DEFINE_CODEC(FetchRequest);
GREGOR_KAFKA_DEFINE_CODEC(FetchResponse);
GREGOR_KAFKA_DEFINE_CODEC(ListOffsetsRequest);
GREGOR_KAFKA_DEFINE_CODEC(ListOffsetsResponse);
GREGOR_KAFKA_DEFINE_CODEC(MetadataRequest);
GREGOR_KAFKA_DEFINE_CODEC(MetadataResponse);

}  // namespace gregor::kafka
