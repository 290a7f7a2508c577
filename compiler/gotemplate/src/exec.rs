//! Executor placeholder: replaced by the real executor in the next commit.

use std::any::Any;

use crate::error::Error;
use crate::template::Templates;
use crate::value::Value;

pub(crate) fn execute(
    t: &Templates,
    name: &str,
    _data: Value,
    _state: Option<&mut (dyn Any + Send)>,
) -> Result<String, Error> {
    Err(Error::NoTemplate { name: name.into(), set: t.first_name.clone().unwrap_or_default() })
}
