//! Statements built at run time (lists with optional filters, `IN` lists)
//! with numbered placeholders, which both engines read.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

/// SQL text with its arguments, each written as `$n`.
pub(super) struct Sql<'q> {
    text: String,
    args: AnyArguments<'q>,
}

impl<'q> Sql<'q> {
    pub fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: AnyArguments::default(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Adds `value` as the next argument, where the text is now.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        // Encoding into Any's buffer only records the value; it cannot fail.
        let _ = self.args.add(value);
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// `$a, $b, …` for each of `values`.
    pub fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self
    }

    /// The text and its arguments, for `sqlx::query_with`.
    pub fn build(self) -> (String, AnyArguments<'q>) {
        (self.text, self.args)
    }
}
