//! Req/resp: the protocol families, their ids, and the `ssz_snappy` framing.
//!
//! A request is `varint(len(ssz)) ++ snappy_frames(ssz)`; a response is a sequence of chunks,
//! each `result_byte ++ [context_bytes] ++ varint(len) ++ snappy_frames(payload)`. This module
//! frames and unframes; what the SSZ means is up to the caller (the node serves requests from
//! its store, sync decodes blocks by their context bytes). Every length is checked against the
//! protocol's limit before anything is allocated for it.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use std::io::{self, Read, Write};

/// One request/response protocol, in all the versions Keel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Status,
    Goodbye,
    Ping,
    MetaData,
    BlocksByRange,
    BlocksByRoot,
    BlobSidecarsByRange,
    BlobSidecarsByRoot,
    DataColumnSidecarsByRange,
    DataColumnSidecarsByRoot,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Status,
        Family::Goodbye,
        Family::Ping,
        Family::MetaData,
        Family::BlocksByRange,
        Family::BlocksByRoot,
        Family::BlobSidecarsByRange,
        Family::BlobSidecarsByRoot,
        Family::DataColumnSidecarsByRange,
        Family::DataColumnSidecarsByRoot,
    ];

    /// The protocol ids, preferred (newest) first.
    pub fn protocols(self) -> Vec<ProtocolId> {
        let ids: &[(&'static str, u8)] = match self {
            Family::Status => &[
                ("/eth2/beacon_chain/req/status/2/ssz_snappy", 2),
                ("/eth2/beacon_chain/req/status/1/ssz_snappy", 1),
            ],
            Family::Goodbye => &[("/eth2/beacon_chain/req/goodbye/1/ssz_snappy", 1)],
            Family::Ping => &[("/eth2/beacon_chain/req/ping/1/ssz_snappy", 1)],
            Family::MetaData => &[
                ("/eth2/beacon_chain/req/metadata/3/ssz_snappy", 3),
                ("/eth2/beacon_chain/req/metadata/2/ssz_snappy", 2),
            ],
            Family::BlocksByRange => &[(
                "/eth2/beacon_chain/req/beacon_blocks_by_range/2/ssz_snappy",
                2,
            )],
            Family::BlocksByRoot => &[(
                "/eth2/beacon_chain/req/beacon_blocks_by_root/2/ssz_snappy",
                2,
            )],
            Family::BlobSidecarsByRange => &[(
                "/eth2/beacon_chain/req/blob_sidecars_by_range/1/ssz_snappy",
                1,
            )],
            Family::BlobSidecarsByRoot => &[(
                "/eth2/beacon_chain/req/blob_sidecars_by_root/1/ssz_snappy",
                1,
            )],
            Family::DataColumnSidecarsByRange => &[(
                "/eth2/beacon_chain/req/data_column_sidecars_by_range/1/ssz_snappy",
                1,
            )],
            Family::DataColumnSidecarsByRoot => &[(
                "/eth2/beacon_chain/req/data_column_sidecars_by_root/1/ssz_snappy",
                1,
            )],
        };
        ids.iter()
            .map(|&(id, version)| ProtocolId {
                id,
                family: self,
                version,
            })
            .collect()
    }

    /// Whether response chunks carry 4 context bytes (the fork digest of the payload's epoch).
    pub fn has_context(self) -> bool {
        matches!(
            self,
            Family::BlocksByRange
                | Family::BlocksByRoot
                | Family::BlobSidecarsByRange
                | Family::BlobSidecarsByRoot
                | Family::DataColumnSidecarsByRange
                | Family::DataColumnSidecarsByRoot
        )
    }

    /// Whether the request has a body (MetaData's has none).
    pub fn has_request_body(self) -> bool {
        self != Family::MetaData
    }

    /// Most response chunks a peer may send for one request.
    pub fn max_response_chunks(self, limits: &Limits) -> usize {
        match self {
            Family::Status | Family::Goodbye | Family::Ping | Family::MetaData => 1,
            Family::BlocksByRange | Family::BlocksByRoot => limits.max_request_blocks as usize,
            Family::BlobSidecarsByRange | Family::BlobSidecarsByRoot => {
                limits.max_request_blob_sidecars as usize
            }
            Family::DataColumnSidecarsByRange | Family::DataColumnSidecarsByRoot => {
                limits.max_request_data_column_sidecars as usize
            }
        }
    }

    /// A label for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Family::Status => "status",
            Family::Goodbye => "goodbye",
            Family::Ping => "ping",
            Family::MetaData => "metadata",
            Family::BlocksByRange => "beacon_blocks_by_range",
            Family::BlocksByRoot => "beacon_blocks_by_root",
            Family::BlobSidecarsByRange => "blob_sidecars_by_range",
            Family::BlobSidecarsByRoot => "blob_sidecars_by_root",
            Family::DataColumnSidecarsByRange => "data_column_sidecars_by_range",
            Family::DataColumnSidecarsByRoot => "data_column_sidecars_by_root",
        }
    }
}

/// A negotiated protocol: its id, family and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolId {
    pub id: &'static str,
    pub family: Family,
    pub version: u8,
}

impl AsRef<str> for ProtocolId {
    fn as_ref(&self) -> &str {
        self.id
    }
}

/// The sizes the network config sets (`MAX_PAYLOAD_SIZE`, `MAX_REQUEST_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_payload_size: u64,
    pub max_request_blocks: u64,
    pub max_request_blob_sidecars: u64,
    pub max_request_data_column_sidecars: u64,
}

impl Limits {
    /// The spec's limits from their config and preset inputs: `MAX_REQUEST_BLOB_SIDECARS_ELECTRA
    /// = MAX_REQUEST_BLOCKS_DENEB * MAX_BLOBS_PER_BLOCK_ELECTRA` and
    /// `MAX_REQUEST_DATA_COLUMN_SIDECARS = MAX_REQUEST_BLOCKS_DENEB * NUMBER_OF_COLUMNS`.
    pub fn derive(
        max_payload_size: u64,
        max_request_blocks_deneb: u64,
        max_blobs_per_block_electra: u64,
        number_of_columns: u64,
    ) -> Self {
        Limits {
            max_payload_size,
            max_request_blocks: max_request_blocks_deneb,
            max_request_blob_sidecars: max_request_blocks_deneb
                .saturating_mul(max_blobs_per_block_electra),
            max_request_data_column_sidecars: max_request_blocks_deneb
                .saturating_mul(number_of_columns),
        }
    }

    /// Largest request body: a by-root request for the most column identifiers, with room.
    fn max_request_size(&self) -> u64 {
        (self.max_payload_size).min(1 << 20)
    }
}

/// Response codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    Success,
    InvalidRequest,
    ServerError,
    ResourceUnavailable,
    /// A code this node does not know (the spec reserves the rest).
    Other(u8),
}

impl ResponseCode {
    pub fn from_byte(byte: u8) -> Self {
        match byte {
            0 => Self::Success,
            1 => Self::InvalidRequest,
            2 => Self::ServerError,
            3 => Self::ResourceUnavailable,
            other => Self::Other(other),
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::InvalidRequest => 1,
            Self::ServerError => 2,
            Self::ResourceUnavailable => 3,
            Self::Other(other) => other,
        }
    }
}

/// One response chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// A payload, with its context bytes where the protocol has them (zero otherwise).
    Success { context: [u8; 4], ssz: Vec<u8> },
    /// An error: the code and the peer's message (`ErrorMessage`, at most 256 bytes).
    Error { code: ResponseCode, message: String },
}

/// A request body in the family's newest version (older versions are converted on the wire).
pub type RequestBody = Vec<u8>;

/// A request as the codec hands it over: its body, or why the peer's bytes were not a request
/// (garbage snappy, a bad length prefix, a body or stream beyond the limits). Such framing
/// errors are handed to the service instead of failing the stream, because libp2p's
/// request-response drops a stream whose `read_request` fails without telling the behaviour
/// which peer sent it: the peer could never be penalised, nor answered with `InvalidRequest`.
pub type WireRequest = Result<RequestBody, String>;

/// Why framing failed: the peer broke the protocol (penalised) or the stream broke.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: u64,
        max: u64,
    },
    #[error("malformed length prefix")]
    BadVarint,
    #[error("snappy frames: {0}")]
    Snappy(String),
    #[error("the stream ended inside a chunk")]
    Truncated,
    #[error("more than {max} response chunks")]
    TooManyChunks { max: usize },
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// The spec's `max_compressed_len`: snappy's worst case for `n` input bytes.
fn max_compressed_len(n: u64) -> u64 {
    n.saturating_add(n / 6).saturating_add(32)
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads an unsigned LEB128 varint of at most 10 bytes from `input` at `*pos`.
fn take_varint(input: &[u8], pos: &mut usize) -> Result<u64, FrameError> {
    let mut value = 0u64;
    for shift in 0..10u32 {
        let byte = *input.get(*pos).ok_or(FrameError::Truncated)?;
        *pos += 1;
        let bits = u64::from(byte & 0x7f);
        value |= bits.checked_shl(shift * 7).ok_or(FrameError::BadVarint)?;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(FrameError::BadVarint)
}

/// `varint(len) ++ snappy_frames(ssz)`.
pub fn encode_payload(ssz: &[u8], out: &mut Vec<u8>) {
    put_varint(ssz.len() as u64, out);
    let mut encoder = snap::write::FrameEncoder::new(out);
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(ssz);
    let _ = encoder.flush();
}

/// Reads one `varint(len) ++ snappy_frames(payload)` at `*pos`, refusing a declared length above
/// `max` before allocating and compressed data beyond snappy's worst case for that length.
fn decode_payload(input: &[u8], pos: &mut usize, max: u64) -> Result<Vec<u8>, FrameError> {
    let len = take_varint(input, pos)?;
    if len > max {
        return Err(FrameError::TooLarge {
            what: "payload",
            len,
            max,
        });
    }
    let rest = input.get(*pos..).ok_or(FrameError::Truncated)?;
    // Snappy's worst case plus the stream identifier and one header per 64 KiB frame.
    let frames = len / 65_536 + 1;
    let bound = (max_compressed_len(len)
        .saturating_add(10)
        .saturating_add(frames.saturating_mul(8)) as usize)
        .min(rest.len());
    let mut cursor = io::Cursor::new(&rest[..bound]);
    let mut payload = vec![0u8; len as usize];
    {
        let mut decoder = snap::read::FrameDecoder::new(&mut cursor);
        decoder.read_exact(&mut payload).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                FrameError::Truncated
            } else {
                FrameError::Snappy(e.to_string())
            }
        })?;
    }
    *pos += cursor.position() as usize;
    Ok(payload)
}

/// Converts a request body between the family's newest version and the negotiated one.
/// Older versions are prefixes of the newer ones (Status v1 ⊂ v2, MetaData v2 ⊂ v3).
fn downgrade(protocol: ProtocolId, mut body: Vec<u8>) -> Vec<u8> {
    if let Some(len) = old_version_len(protocol) {
        body.truncate(len);
    }
    body
}

fn upgrade(protocol: ProtocolId, mut body: Vec<u8>) -> Vec<u8> {
    // The field the newer version adds is a trailing uint64; zero means "not stated".
    if old_version_len(protocol) == Some(body.len()) {
        body.extend_from_slice(&[0u8; 8]);
    }
    body
}

fn old_version_len(protocol: ProtocolId) -> Option<usize> {
    match (protocol.family, protocol.version) {
        // fork_digest, finalized_root, finalized_epoch, head_root, head_slot.
        (Family::Status, 1) => Some(4 + 32 + 8 + 32 + 8),
        // seq_number, attnets (64 bits), syncnets (4 bits in one byte).
        (Family::MetaData, 2) => Some(8 + 8 + 1),
        _ => None,
    }
}

/// The request as it goes on the wire.
pub fn encode_request(protocol: ProtocolId, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if protocol.family.has_request_body() {
        encode_payload(&downgrade(protocol, body.to_vec()), &mut out);
    }
    out
}

/// A request read off the wire, in the family's newest version.
pub fn decode_request(
    protocol: ProtocolId,
    wire: &[u8],
    limits: &Limits,
) -> Result<RequestBody, FrameError> {
    if !protocol.family.has_request_body() {
        return Ok(Vec::new());
    }
    let mut pos = 0;
    let body = decode_payload(wire, &mut pos, limits.max_request_size())?;
    Ok(upgrade(protocol, body))
}

/// A response as it goes on the wire.
pub fn encode_response(protocol: ProtocolId, chunks: &[Chunk]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks {
        match chunk {
            Chunk::Success { context, ssz } => {
                out.push(ResponseCode::Success.byte());
                if protocol.family.has_context() {
                    out.extend_from_slice(context);
                }
                encode_payload(&downgrade(protocol, ssz.clone()), &mut out);
            }
            Chunk::Error { code, message } => {
                out.push(code.byte());
                let bytes = message.as_bytes();
                encode_payload(&bytes[..bytes.len().min(256)], &mut out);
            }
        }
    }
    out
}

/// A response read off the wire: every chunk, each within the limits.
pub fn decode_response(
    protocol: ProtocolId,
    wire: &[u8],
    limits: &Limits,
) -> Result<Vec<Chunk>, FrameError> {
    let max_chunks = protocol.family.max_response_chunks(limits);
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        if chunks.len() >= max_chunks {
            return Err(FrameError::TooManyChunks { max: max_chunks });
        }
        let code = ResponseCode::from_byte(wire[pos]);
        pos += 1;
        if code != ResponseCode::Success {
            let message = decode_payload(wire, &mut pos, 256)?;
            chunks.push(Chunk::Error {
                code,
                message: String::from_utf8_lossy(&message).into_owned(),
            });
            // The spec ends the stream after an error chunk.
            break;
        }
        let mut context = [0u8; 4];
        if protocol.family.has_context() {
            let bytes = wire.get(pos..pos + 4).ok_or(FrameError::Truncated)?;
            context.copy_from_slice(bytes);
            pos += 4;
        }
        let ssz = decode_payload(wire, &mut pos, limits.max_payload_size)?;
        chunks.push(Chunk::Success {
            context,
            ssz: upgrade(protocol, ssz),
        });
    }
    Ok(chunks)
}

/// The most bytes a whole response of `protocol` may take on the wire.
pub fn max_response_wire_len(protocol: ProtocolId, limits: &Limits) -> u64 {
    let per_chunk = max_compressed_len(limits.max_payload_size).saturating_add(1 + 4 + 10 + 64);
    // Buffered in memory: bounded for sanity even where the protocol allows more.
    per_chunk
        .saturating_mul(protocol.family.max_response_chunks(limits) as u64)
        .min(256 << 20)
}

/// The libp2p codec: reads and writes whole requests and responses with [`Limits`].
#[derive(Debug, Clone)]
pub struct Eth2Codec {
    pub limits: Limits,
}

async fn read_bounded<T: AsyncRead + Unpin + Send>(io: &mut T, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(max.saturating_add(1)).read_to_end(&mut buf).await?;
    if buf.len() as u64 > max {
        return Err(FrameError::TooLarge {
            what: "message",
            len: buf.len() as u64,
            max,
        }
        .into());
    }
    Ok(buf)
}

impl libp2p::request_response::Codec for Eth2Codec {
    type Protocol = ProtocolId;
    type Request = WireRequest;
    type Response = Vec<Chunk>;

    /// Fails only when the stream itself fails; a peer's malformed bytes are an `Ok(Err(_))`.
    async fn read_request<T>(
        &mut self,
        protocol: &ProtocolId,
        io: &mut T,
    ) -> io::Result<WireRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let max = max_compressed_len(self.limits.max_request_size()).saturating_add(10);
        let wire = match read_bounded(io, max).await {
            Ok(wire) => wire,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(Err(e.to_string())),
            Err(e) => return Err(e),
        };
        Ok(decode_request(*protocol, &wire, &self.limits).map_err(|e| e.to_string()))
    }

    async fn read_response<T>(
        &mut self,
        protocol: &ProtocolId,
        io: &mut T,
    ) -> io::Result<Vec<Chunk>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let wire = read_bounded(io, max_response_wire_len(*protocol, &self.limits)).await?;
        Ok(decode_response(*protocol, &wire, &self.limits)?)
    }

    async fn write_request<T>(
        &mut self,
        protocol: &ProtocolId,
        io: &mut T,
        request: WireRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let body = request.map_err(|reason| io::Error::new(io::ErrorKind::InvalidInput, reason))?;
        io.write_all(&encode_request(*protocol, &body)).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        protocol: &ProtocolId,
        io: &mut T,
        response: Vec<Chunk>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&encode_response(*protocol, &response)).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_payload_size: 10 << 20,
        max_request_blocks: 128,
        max_request_blob_sidecars: 768,
        max_request_data_column_sidecars: 16384,
    };

    fn protocol(family: Family) -> ProtocolId {
        family.protocols()[0]
    }

    #[test]
    fn varint_round_trips_and_rejects_overlong() {
        for value in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(value, &mut out);
            let mut pos = 0;
            assert_eq!(take_varint(&out, &mut pos).unwrap(), value);
            assert_eq!(pos, out.len());
        }
        let overlong = [0xffu8; 11];
        assert!(matches!(
            take_varint(&overlong, &mut 0),
            Err(FrameError::BadVarint)
        ));
    }

    #[test]
    fn responses_round_trip_with_context_and_errors() {
        let p = protocol(Family::BlocksByRange);
        let chunks = vec![
            Chunk::Success {
                context: [1, 2, 3, 4],
                ssz: vec![7; 1000],
            },
            Chunk::Success {
                context: [5, 6, 7, 8],
                ssz: (0..200_000u32).map(|i| i as u8).collect(),
            },
            Chunk::Error {
                code: ResponseCode::ResourceUnavailable,
                message: "pruned".into(),
            },
        ];
        let wire = encode_response(p, &chunks);
        assert_eq!(decode_response(p, &wire, &LIMITS).unwrap(), chunks);
    }

    #[test]
    fn status_v1_is_the_v2_prefix() {
        let v1 = Family::Status.protocols()[1];
        assert_eq!(v1.version, 1);
        let v2_body: Vec<u8> = (0..92u8).collect();
        let wire = encode_request(v1, &v2_body);
        let read = decode_request(v1, &wire, &LIMITS).unwrap();
        assert_eq!(&read[..84], &v2_body[..84]);
        assert_eq!(&read[84..], &[0u8; 8]);
    }

    #[test]
    fn metadata_requests_are_empty() {
        let p = protocol(Family::MetaData);
        assert!(encode_request(p, &[]).is_empty());
        assert_eq!(decode_request(p, &[], &LIMITS).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn declared_length_above_the_limit_is_refused_before_allocating() {
        let p = protocol(Family::BlocksByRange);
        let mut wire = vec![0u8, 1, 2, 3, 4];
        put_varint(u64::MAX / 2, &mut wire);
        assert!(matches!(
            decode_response(p, &wire, &LIMITS),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn garbage_snappy_and_truncation_are_errors() {
        let p = protocol(Family::Ping);
        let mut wire = vec![0u8];
        put_varint(8, &mut wire);
        wire.extend_from_slice(b"not snappy frames at all");
        assert!(decode_response(p, &wire, &LIMITS).is_err());
        let good = encode_response(
            p,
            &[Chunk::Success {
                context: [0; 4],
                ssz: 42u64.to_le_bytes().to_vec(),
            }],
        );
        assert!(decode_response(p, &good[..good.len() - 3], &LIMITS).is_err());
    }

    #[test]
    fn too_many_chunks_are_refused() {
        let p = protocol(Family::Ping);
        let chunk = Chunk::Success {
            context: [0; 4],
            ssz: 1u64.to_le_bytes().to_vec(),
        };
        let wire = encode_response(p, &[chunk.clone(), chunk]);
        assert!(matches!(
            decode_response(p, &wire, &LIMITS),
            Err(FrameError::TooManyChunks { max: 1 })
        ));
    }

    #[tokio::test]
    async fn malformed_requests_reach_the_service_instead_of_failing_the_stream() {
        use libp2p::request_response::Codec;
        let mut codec = Eth2Codec { limits: LIMITS };
        let p = protocol(Family::BlocksByRange);
        let body = vec![7u8; 24];
        let mut good = futures::io::Cursor::new(encode_request(p, &body));
        assert_eq!(codec.read_request(&p, &mut good).await.unwrap(), Ok(body));

        let mut garbage_snappy = vec![];
        put_varint(24, &mut garbage_snappy);
        garbage_snappy.extend_from_slice(b"not snappy frames at all");
        let mut declared_too_large = vec![];
        put_varint(u64::from(u32::MAX), &mut declared_too_large);
        declared_too_large.extend_from_slice(&[0; 16]);
        let beyond_the_stream_limit = vec![0u8; 2 << 20];
        for wire in [
            garbage_snappy,
            declared_too_large,
            beyond_the_stream_limit,
            vec![0xff; 11],
        ] {
            let mut io = futures::io::Cursor::new(wire);
            let read = codec.read_request(&p, &mut io).await.unwrap();
            assert!(read.is_err(), "{read:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(wire in proptest::collection::vec(any::<u8>(), 0..512)) {
            for family in Family::ALL {
                let _ = decode_response(protocol(family), &wire, &LIMITS);
                let _ = decode_request(protocol(family), &wire, &LIMITS);
            }
        }
    }
}
