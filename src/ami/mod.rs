//! The Asterisk Manager Interface: wire codec, validated actions and the
//! connection actor. Protocol only: nothing here knows of queues or screens.

pub mod action;
pub mod codec;
pub mod config;
pub mod connection;
pub mod escape;
pub mod fan_in;
pub mod message;

pub use action::{Action, ActionError};
pub use codec::{CodecError, Decoder, Frame, Limits};
pub use connection::{AmiMsg, ConnectionState, Handle, ReceivedEvent, Settings};
pub use message::{Message, MessageKind};
