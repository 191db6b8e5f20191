//! Times as an inbox shows them.

use baton_shared::model::Millis;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// Milliseconds since the Unix epoch, from the browser's clock.
#[cfg(target_arch = "wasm32")]
pub fn now() -> Millis {
    js_sys::Date::now() as Millis
}

#[cfg(not(target_arch = "wasm32"))]
pub fn now() -> Millis {
    baton_shared::clock::now()
}

/// A compact age: "now", "5m", "3h", "2d", "6w".
pub fn age(now: Millis, at: Millis) -> String {
    let elapsed = now.saturating_sub(at);
    match elapsed {
        e if e < MINUTE => "now".to_owned(),
        e if e < HOUR => format!("{}m", e / MINUTE),
        e if e < DAY => format!("{}h", e / HOUR),
        e if e < 14 * DAY => format!("{}d", e / DAY),
        e => format!("{}w", e / (7 * DAY)),
    }
}

/// A readable local time for a message: "14:05", or "Mar 3, 14:05" when older than a day.
#[cfg(target_arch = "wasm32")]
pub fn clock(at: Millis) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    let time = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    if now().saturating_sub(at) < DAY {
        time
    } else {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS.get(date.get_month() as usize).copied().unwrap_or("");
        format!("{month} {}, {time}", date.get_date())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub fn clock(at: Millis) -> String {
    age(now(), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_round_down_to_the_largest_unit() {
        let now = 100 * DAY;
        assert_eq!(age(now, now), "now");
        assert_eq!(
            age(now, now + 5_000),
            "now",
            "a clock ahead is not negative"
        );
        assert_eq!(age(now, now - 5 * MINUTE - 59_000), "5m");
        assert_eq!(age(now, now - 3 * HOUR), "3h");
        assert_eq!(age(now, now - 2 * DAY), "2d");
        assert_eq!(age(now, now - 43 * DAY), "6w");
    }
}
