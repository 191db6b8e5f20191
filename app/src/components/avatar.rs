//! An agent's initials in a colored circle (the color follows the id, so
//! each agent keeps theirs everywhere).

use leptos::prelude::*;

/// "Ana Souza" → "AS"; "ben" → "B".
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|part| part.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// One of eight hues, stable per id.
pub fn hue(id: &str) -> u32 {
    id.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8
        * 45
}

#[component]
pub fn Avatar(name: String, id: String, #[prop(optional)] small: bool) -> impl IntoView {
    let style = format!("--hue: {}", hue(&id));
    view! {
        <span class="avatar" class:small=small style=style aria-hidden="true">
            {initials(&name)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_two_words() {
        assert_eq!(initials("Ana Souza"), "AS");
        assert_eq!(initials("ben"), "B");
        assert_eq!(initials("Chloe de la Cruz"), "CD");
        assert_eq!(initials(""), "");
        assert_eq!(hue("agt_1"), hue("agt_1"));
    }
}
