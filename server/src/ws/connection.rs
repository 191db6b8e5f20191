//! One peer's connection: the loop that reads frames, sends what the peer
//! is owed, pings, and ends it — on close, error, idle timeout, a peer
//! that stops reading, a credential that ended, or shutdown. What the
//! frames mean is [`peer`]'s; what others changed meanwhile, [`push`]'s.
//!
//! The loop is generic over the socket (any `Sink` + `Stream` of frames),
//! so it is tested in process with channels as well as over the wire.

mod fetch;
mod peer;
mod push;
#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message as Frame};
use baton_shared::validate::Principal;
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};

use super::limits::Bucket;
use crate::AppState;
use crate::auth::{Caller, authenticate};
use crate::fanout::Connection;
use crate::hub::{Hub, Sender};
use peer::Peer;

/// The server's peer id on the wire.
pub const SERVER_PEER: &str = "baton-server";

/// Close codes (RFC 6455).
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
const UNSUPPORTED: u16 = 1003;
const INVALID: u16 = 1007;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
const SERVER_ERROR: u16 = 1011;
/// "Service restart": the client should reconnect.
const RESTART: u16 = 1012;

/// Most frames handled as one batch.
const MAX_BATCH: usize = 64;

/// What to do after handling something.
enum Flow {
    Continue,
    Close(u16, &'static str),
}

/// Unregisters the connection however its task ends (a panic included),
/// recording when the peer was last heard from.
struct Registered {
    hub: Arc<Hub>,
    connection: Arc<Connection>,
    heard: baton_shared::model::Millis,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.connections().disconnect(self.connection.id);
        self.hub
            .close_span(self.connection.span.clone(), self.heard);
    }
}

/// Serves one peer until the connection ends: frames come in on
/// `stream` and go out on `sink` (the two halves of a websocket, or
/// channels in a test).
pub async fn serve<W, R, E>(
    mut sink: W,
    mut stream: R,
    state: AppState,
    caller: Caller,
    principal: Principal,
) where
    W: Sink<Frame> + Unpin,
    R: Stream<Item = Result<Frame, E>> + Unpin,
    E: Display,
{
    let hub = state.hub.clone();
    let span = hex::encode(baton_shared::ids::random_bytes());
    let connection = hub.connections().connect(
        caller.agent.id.clone(),
        caller.credential.hash(),
        span.clone(),
    );
    let mut registered = Registered {
        hub: hub.clone(),
        connection: connection.clone(),
        heard: baton_shared::clock::now(),
    };
    let online = match Box::pin(hub.open_span(&span, &caller.agent.id)).await {
        Ok(online) => online,
        Err(err) => {
            tracing::error!(error = %err, "could not record a connection");
            let _ = send(&mut sink, close(SERVER_ERROR, "server error"), &state).await;
            return;
        }
    };
    let sender = Sender::new(principal, online);
    let mut peer = Peer::new(
        state.clone(),
        connection.clone(),
        caller.agent.id.clone(),
        sender,
    );
    let limits = state.limits;
    let shutdown = state.shutdown.clone();
    let mut bucket = Bucket::new(&limits);
    let mut heartbeat = tokio::time::interval(limits.heartbeat);
    heartbeat.tick().await;
    let mut heard = Instant::now();
    // The work a connection does now and then (a batch of frames, a push, a
    // credential check) runs in boxed futures: inline, the largest of them
    // would size every connection's task, idle ones included (3.8 KB, boxed
    // 2.4 KB).
    let ending = loop {
        let flow = tokio::select! {
            () = shutdown.cancelled() => Flow::Close(GOING_AWAY, "the server is restarting"),
            () = connection.wake.notified() => Box::pin(peer.flush_live()).await,
            // A fetch goes out a run at a time, each sent before the next is
            // read, taking turns with the peer's frames.
            () = std::future::ready(()), if peer.fetching() => Box::pin(peer.fetch_more()).await,
            _ = heartbeat.tick() => {
                if heard.elapsed() > limits.idle {
                    Flow::Close(POLICY, "idle for too long")
                } else if let Some(flow) = Box::pin(still_signed_in(&state, &caller)).await {
                    flow
                } else if send(&mut sink, Frame::Ping(Default::default()), &state).await.is_err() {
                    break None;
                } else {
                    Flow::Continue
                }
            }
            frame = stream.next() => {
                heard = Instant::now();
                registered.heard = baton_shared::clock::now();
                let frames = arrived(frame, &mut stream);
                match Box::pin(peer.frames(frames, &mut bucket)).await {
                    Some(flow) => flow,
                    None => break None,
                }
            }
        };
        if send_out(&mut sink, &mut peer, &state).await.is_err() {
            break None;
        }
        if let Flow::Close(code, reason) = flow {
            break Some((code, reason));
        }
    };
    if let Some((code, reason)) = ending {
        let _ = send(&mut sink, close(code, reason), &state).await;
    }
}

/// `first` and the frames that have already arrived after it, handled as
/// one batch: sync messages for different documents then run side by side
/// and share one commit (one fsync) instead of one each.
fn arrived<R, E>(first: Option<Result<Frame, E>>, stream: &mut R) -> Vec<Option<Result<Frame, E>>>
where
    R: Stream<Item = Result<Frame, E>> + Unpin,
{
    let mut frames = vec![first];
    while frames.len() < MAX_BATCH && matches!(frames.last(), Some(Some(Ok(Frame::Binary(_))))) {
        match stream.next().now_or_never() {
            Some(next) => frames.push(next),
            None => break,
        }
    }
    frames
}

/// Sends everything the peer is owed; `Err` when the peer is gone.
async fn send_out<W>(sink: &mut W, peer: &mut Peer, state: &AppState) -> Result<(), ()>
where
    W: Sink<Frame> + Unpin,
{
    // Every frame of the round in one write: fed, then flushed once.
    let out = peer.take_out();
    if out.is_empty() {
        return Ok(());
    }
    send_all(sink, out.into_iter().map(Frame::Binary), state).await
}

fn close(code: u16, reason: &'static str) -> Frame {
    Frame::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Sends one frame, giving up on a peer that does not take it in time (it
/// stopped reading): its task ends, and shutdown never waits for it.
async fn send<W>(sink: &mut W, frame: Frame, state: &AppState) -> Result<(), ()>
where
    W: Sink<Frame> + Unpin,
{
    send_all(sink, [frame], state).await
}

/// Sends frames with one flush, so several go out in one write, within
/// one deadline as [`send`]'s: what waits is bounded by one round of
/// answers and pushes, never by other peers.
async fn send_all<W>(
    sink: &mut W,
    frames: impl IntoIterator<Item = Frame>,
    state: &AppState,
) -> Result<(), ()>
where
    W: Sink<Frame> + Unpin,
{
    let write = async {
        for frame in frames {
            sink.feed(frame).await?;
        }
        sink.flush().await
    };
    match tokio::time::timeout(state.limits.send_timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::info!("cut off a peer that stopped reading");
            Err(())
        }
    }
}

/// Whether the credential the connection opened with still holds; the
/// close to send when it does not (signed out, expired, revoked, or the
/// agent deactivated or given another role, here or by another process).
async fn still_signed_in(state: &AppState, caller: &Caller) -> Option<Flow> {
    match authenticate(state, caller.credential.clone()).await {
        Ok(now) if now.agent.role != caller.agent.role => {
            Some(Flow::Close(RESTART, "your role changed; reconnect"))
        }
        Ok(_) => None,
        Err(err) if err.status.is_client_error() => Some(Flow::Close(
            POLICY,
            "signed out: the session ended or the account was deactivated",
        )),
        // The store failing is not the peer's doing; try again next beat.
        Err(_) => None,
    }
}
