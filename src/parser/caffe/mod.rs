mod proto;
pub struct CaffeParser; pub struct BlobNameToTensor; pub struct BinaryProtoBlob;
