//! Command-line flags, in the style of other consensus clients.

use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keel",
    version,
    about = "Keel: an Ethereum consensus-layer client"
)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `keel=debug`.
    #[arg(long, global = true, default_value = "info", env = "KEEL_LOG")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A local Fulu devnet: genesis with interop validators, an embedded mock execution engine,
    /// built-in validator duties. No network access needed.
    Dev(DevArgs),
    /// A beacon node for a named network or a config file.
    Bn(BnArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Where the database, the JWT secret and slashing protection live.
    #[arg(long, default_value = "keel-data")]
    pub datadir: PathBuf,
    #[arg(long, default_value = "127.0.0.1")]
    pub http_address: IpAddr,
    #[arg(long, default_value_t = 5052)]
    pub http_port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub metrics_address: IpAddr,
    #[arg(long, default_value_t = 5054)]
    pub metrics_port: u16,
    /// Serve no Prometheus endpoint.
    #[arg(long)]
    pub disable_metrics: bool,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Interop validators at genesis, all run by this node.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub validators: u64,
    /// Slot length in milliseconds (the minimal preset's config says 6000).
    #[arg(long, default_value_t = 6000, value_parser = clap::value_parser!(u64).range(500..=60_000))]
    pub slot_ms: u64,
    /// Genesis time (Unix seconds) for a new devnet; default: the next whole second.
    #[arg(long)]
    pub genesis_time: Option<u64>,
    /// The JWT secret file shared with the execution engine (generated if absent); default:
    /// `<datadir>/jwt.hex`.
    #[arg(long)]
    pub execution_jwt: Option<PathBuf>,
    /// Delete the datadir's database first and start a new devnet.
    #[arg(long)]
    pub reset: bool,
    /// Run only these validators' duties, as `START..END` (default: all of them), so that
    /// several dev nodes can share one devnet's validators; an empty range (`0..0`) runs none.
    #[arg(long, value_parser = parse_range)]
    pub local_validators: Option<std::ops::Range<u64>>,
    /// Join other dev nodes over libp2p on loopback, listening on this TCP port (0: any).
    /// Without it the devnet is a single node with no network.
    #[arg(long)]
    pub p2p_port: Option<u16>,
    /// UDP port for discv5 discovery (with --p2p-port); none: no discovery.
    #[arg(long)]
    pub discovery_port: Option<u16>,
    /// ENRs of nodes to discover peers through and dial (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub boot_nodes: Vec<keel_p2p::Enr>,
    /// libp2p addresses to dial directly, e.g. /ip4/127.0.0.1/tcp/9000/p2p/<peer id>.
    #[arg(long = "peer")]
    pub peers: Vec<keel_p2p::Multiaddr>,
    /// Join an existing devnet from another node's Beacon API instead of creating one: its
    /// finalized state and block anchor the new database, then range sync (needs --p2p-port)
    /// brings it to the head and backfill fetches the history below.
    #[arg(long)]
    pub checkpoint_sync_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct BnArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// A built-in network: mainnet, sepolia or hoodi.
    #[arg(long, conflicts_with = "config")]
    pub network: Option<String>,
    /// A `config.yaml` in the consensus spec's format (mainnet preset).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The execution client's authenticated Engine API endpoint.
    #[arg(long)]
    pub execution_endpoint: String,
    /// The JWT secret file shared with the execution client.
    #[arg(long)]
    pub execution_jwt: PathBuf,
    /// A Beacon API to fetch the finalized state and block from on first start.
    #[arg(long)]
    pub checkpoint_sync_url: Option<String>,
    #[command(flatten)]
    pub p2p: BnNetworkArgs,
}

/// Peer-to-peer flags of `keel bn`.
#[derive(Debug, Args)]
pub struct BnNetworkArgs {
    /// Address libp2p and discovery listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub listen_address: IpAddr,
    /// TCP port for libp2p.
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// UDP port for libp2p over QUIC.
    #[arg(long, default_value_t = 9001)]
    pub quic_port: u16,
    /// Do not listen on QUIC.
    #[arg(long)]
    pub disable_quic: bool,
    /// UDP port for discv5 (default: the same number as --port).
    #[arg(long)]
    pub discovery_port: Option<u16>,
    /// No discv5: peers only from --libp2p-addresses (private networks).
    #[arg(long)]
    pub disable_discovery: bool,
    /// ENRs to discover peers through, instead of the network's built-in boot nodes.
    #[arg(long, value_delimiter = ',')]
    pub boot_nodes: Vec<keel_p2p::Enr>,
    /// libp2p addresses to connect to and stay connected with, e.g.
    /// /ip4/10.0.0.2/tcp/9000/p2p/<peer id>.
    #[arg(long, value_delimiter = ',')]
    pub libp2p_addresses: Vec<keel_p2p::Multiaddr>,
    /// How many peers to keep.
    #[arg(long, default_value_t = 100)]
    pub target_peers: usize,
    /// Subscribe to every attestation and sync committee subnet (large operators).
    #[arg(long)]
    pub subscribe_all_subnets: bool,
    /// No peer-to-peer networking at all: the node holds its checkpoint and serves the API.
    #[arg(long)]
    pub disable_network: bool,
}

fn parse_range(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (start, end) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not START..END"))?;
    let start: u64 = start.parse().map_err(|e| format!("start {start:?}: {e}"))?;
    let end: u64 = end.parse().map_err(|e| format!("end {end:?}: {e}"))?;
    if start > end {
        return Err(format!("{text:?} ends before it starts"));
    }
    Ok(start..end)
}

impl BnArgs {
    /// The built-in network named by --network (mainnet by default).
    pub fn network_name(&self) -> &str {
        self.network.as_deref().unwrap_or("mainnet")
    }
}
