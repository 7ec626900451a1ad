//! Loss-free reading of config YAML.
//!
//! `serde_yaml` resolves plain scalars when asked for "any" value: `0x00000000` becomes the
//! integer `0`, `58750000000000000000000` a `u128` that its `Value` type rejects, `1e3` a float.
//! Config values must reach the typed parsers exactly as written, so reading is done in two passes:
//! the first only learns the document's shape (which nodes are scalars, lists or mappings), the
//! second walks the same text again, guided by that shape, and asks for every scalar as a string,
//! which `serde_yaml` then hands over verbatim.

use crate::error::ConfigError;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A config value as written in the YAML, scalars kept verbatim (without quotes).
///
/// Also the value type of the Beacon API `config/spec` shape, where every scalar is a string and
/// `BLOB_SCHEDULE` is a list of objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Scalar(String),
    List(Vec<ConfigValue>),
    /// Entries in document order.
    Map(Vec<(String, ConfigValue)>),
}

impl ConfigValue {
    /// The scalar's text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match self {
            Self::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A short description of the kind of value, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Scalar(_) => "a scalar",
            Self::List(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

impl fmt::Display for ConfigValue {
    /// Flow-style rendering (`[a, {K: v}]`), for messages and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scalar(s) => f.write_str(s),
            Self::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Self::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Parses a YAML document that must be a mapping; returns its entries in document order with all
/// scalars verbatim. An empty document is an empty mapping; duplicate keys are an error.
pub(crate) fn parse_mapping(text: &str) -> Result<Vec<(String, ConfigValue)>, ConfigError> {
    let shape: Shape = serde_yaml::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?;
    match shape {
        Shape::Scalar { null: true } => return Ok(Vec::new()),
        Shape::Map(_) => {}
        _ => return Err(ConfigError::NotAMapping),
    }
    let value = Shaped(&shape)
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(|e| ConfigError::Yaml(e.to_string()))?;
    match value {
        ConfigValue::Map(entries) => Ok(entries),
        _ => Err(ConfigError::NotAMapping),
    }
}

/// Parses a YAML document that must be a list of scalars (the boot-ENR files).
pub(crate) fn parse_string_list(text: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    Ok(list)
}

/// The first pass: only the structure of the document. Any scalar is accepted, however
/// `serde_yaml` resolves it (including integers beyond `u64`, which its `Value` rejects).
enum Shape {
    Scalar {
        null: bool,
    },
    List(Vec<Shape>),
    /// Values in document order.
    Map(Vec<Shape>),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML scalar, list or mapping")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: false })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: true })
    }
    fn visit_none<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Scalar { null: true })
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        Shape::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Shape>()? {
            items.push(item);
        }
        Ok(Shape::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut values = Vec::new();
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            values.push(map.next_value::<Shape>()?);
        }
        Ok(Shape::Map(values))
    }
}

/// The second pass: deserializes one node, as scalar/list/mapping according to the first pass.
struct Shaped<'a>(&'a Shape);

impl<'de> DeserializeSeed<'de> for Shaped<'_> {
    type Value = ConfigValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ConfigValue, D::Error> {
        match self.0 {
            Shape::List(items) => deserializer.deserialize_seq(ListVisitor(items)),
            Shape::Map(values) => deserializer.deserialize_map(MapVisitor(values)),
            Shape::Scalar { .. } => deserializer
                .deserialize_str(ScalarVisitor)
                .map(ConfigValue::Scalar),
        }
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

struct ListVisitor<'a>(&'a [Shape]);

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = ConfigValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ConfigValue, A::Error> {
        let mut out = Vec::with_capacity(self.0.len());
        for shape in self.0 {
            match seq.next_element_seed(Shaped(shape))? {
                Some(item) => out.push(item),
                None => return Err(de::Error::custom("list shorter on the second pass")),
            }
        }
        Ok(ConfigValue::List(out))
    }
}

/// The first pass's mapping values in document order; the second pass sees the same order.
struct MapVisitor<'a>(&'a [Shape]);

impl<'de> Visitor<'de> for MapVisitor<'_> {
    type Value = ConfigValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConfigValue, A::Error> {
        let mut out: Vec<(String, ConfigValue)> = Vec::with_capacity(self.0.len());
        for shape in self.0 {
            let Some(key) = map.next_key::<String>()? else {
                return Err(de::Error::custom("mapping shorter on the second pass"));
            };
            if out.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let value = map.next_value_seed(Shaped(shape))?;
            out.push((key, value));
        }
        Ok(ConfigValue::Map(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_verbatim() {
        let entries = parse_mapping(
            "A: 58750000000000000000000\nB: 0x00000000\nC: 'mainnet'\nD: 18446744073709551615\nE:\n",
        )
        .unwrap();
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.as_scalar())
                .unwrap()
                .to_owned()
        };
        assert_eq!(get("A"), "58750000000000000000000");
        assert_eq!(get("B"), "0x00000000");
        assert_eq!(get("C"), "mainnet");
        assert_eq!(get("D"), "18446744073709551615");
        assert_eq!(get("E"), "");
    }

    #[test]
    fn nested_lists_and_maps() {
        let entries = parse_mapping(
            "BLOB_SCHEDULE:\n  - EPOCH: 5  # comment\n    MAX_BLOBS_PER_BLOCK: 0x10\nX: []\n",
        )
        .unwrap();
        assert_eq!(
            entries[0].1,
            ConfigValue::List(vec![ConfigValue::Map(vec![
                ("EPOCH".into(), ConfigValue::Scalar("5".into())),
                (
                    "MAX_BLOBS_PER_BLOCK".into(),
                    ConfigValue::Scalar("0x10".into())
                ),
            ])])
        );
        assert_eq!(entries[1].1, ConfigValue::List(vec![]));
    }

    #[test]
    fn non_mappings_and_bad_yaml_are_errors() {
        assert_eq!(parse_mapping("- a\n- b\n"), Err(ConfigError::NotAMapping));
        assert!(matches!(
            parse_mapping("A: [1, 2\n"),
            Err(ConfigError::Yaml(_))
        ));
        assert!(matches!(
            parse_mapping("A: 1\nA: 2\n"),
            Err(ConfigError::Yaml(_))
        ));
        assert_eq!(parse_mapping(""), Ok(vec![]));
    }
}
