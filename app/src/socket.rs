//! The one websocket per tab to `/sync`: binary CBOR frames in and out. It
//! knows nothing of documents; `state` decides what to send and when to retry.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::error::AppError;

/// What the socket reports.
pub struct Handlers {
    pub opened: Box<dyn FnMut()>,
    pub frame: Box<dyn FnMut(Vec<u8>)>,
    pub closed: Box<dyn FnMut(u16, String)>,
}

/// An open (or opening) socket; dropping it closes the connection.
pub struct Socket {
    ws: WebSocket,
    _opened: Closure<dyn FnMut()>,
    _frame: Closure<dyn FnMut(MessageEvent)>,
    _closed: Closure<dyn FnMut(CloseEvent)>,
}

/// `ws(s)://<this host>/sync`.
pub fn sync_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/sync", location.host().ok()?))
}

impl Socket {
    pub fn connect(url: &str, handlers: Handlers) -> Result<Socket, AppError> {
        let ws = WebSocket::new(url).map_err(|e| AppError::Socket {
            url: url.to_owned(),
            detail: format!("{e:?}"),
        })?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let Handlers {
            opened,
            mut frame,
            mut closed,
        } = handlers;
        let on_open = Closure::<dyn FnMut()>::new(opened);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                frame(js_sys::Uint8Array::new(&buffer).to_vec());
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            closed(event.code(), event.reason());
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _opened: on_open,
            _frame: on_message,
            _closed: on_close,
        })
    }

    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    /// Sends one frame; false when the socket is not open (the caller keeps
    /// the work in its documents and resends after the next join).
    pub fn send(&self, bytes: &[u8]) -> bool {
        self.is_open() && self.ws.send_with_u8_array(bytes).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
