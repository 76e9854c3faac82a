//! The host's interface, typed: what an editor may ask ([`Request`] and its
//! options), what it is answered and told ([`reply`], [`Event`], carried as
//! a [`Payload`]), and an editor as the core sees it ([`Client`], [`Peer`],
//! [`Link`]). No wire format here: `rpc/` decodes msgpack into these types
//! and encodes payloads back, and is the only module that does.

mod editor;
mod event;
pub mod opts;
mod payload;
pub mod reply;
mod request;

pub use editor::{Caller, Client, ClientId, Link, Peer, Pending};
pub use event::Event;
pub use opts::*;
pub use payload::Payload;
pub use request::Request;
