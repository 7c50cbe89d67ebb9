//! Scenario fields by dotted path (`powder.ptfe.wt_pct`, `calender.gaps.List.1`): look a field up in
//! the JSON form of a scenario, set it with the type it needs, and expand an axis' values.

use serde_json::Value;

use super::spec::AxisValues;

/// A JSON value as plain text (strings unquoted).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The explicit value list of an axis. Errors: empty list, `n = 0`, non-finite bounds, log bounds
/// not positive.
pub fn axis_value_list(values: &AxisValues) -> Result<Vec<Value>, String> {
    let out: Vec<Value> = match *values {
        AxisValues::List(ref v) => v.clone(),
        AxisValues::Linear { start, stop, n } => {
            if !(start.is_finite() && stop.is_finite()) {
                return Err(format!("Linear bounds must be finite, got {start}..{stop}"));
            }
            spaced(start, stop, n, |i, m| start + (stop - start) * i / m)
                .ok_or("non-finite value")?
        }
        AxisValues::Log { start, stop, n } => {
            if !(start.is_finite() && stop.is_finite() && start > 0.0 && stop > 0.0) {
                return Err(format!(
                    "Log bounds must be finite and > 0, got {start}..{stop}"
                ));
            }
            let (a, b) = (start.log10(), stop.log10());
            spaced(start, stop, n, |i, m| 10f64.powf(a + (b - a) * i / m))
                .ok_or("non-finite value")?
        }
    };
    if out.is_empty() {
        return Err("the axis has no values".into());
    }
    Ok(out)
}

/// `n` values from `start` to `stop` (both exact), the inner ones `at(i, n − 1)`, as JSON
/// numbers; `None` if one is not finite.
fn spaced(start: f64, stop: f64, n: usize, at: impl Fn(f64, f64) -> f64) -> Option<Vec<Value>> {
    (0..n)
        .map(|i| {
            let x = if i + 1 == n && n > 1 {
                stop
            } else if i == 0 {
                start
            } else {
                at(i as f64, (n - 1) as f64)
            };
            serde_json::Number::from_f64(x).map(Value::Number)
        })
        .collect()
}

/// Cartesian product of index ranges `0..lens[i]`, last axis fastest. No axes: one empty point.
pub(super) fn cartesian(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for &n in lens {
        let mut next = Vec::with_capacity(out.len() * n);
        for prefix in &out {
            for k in 0..n {
                let mut p = prefix.clone();
                p.push(k);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// The value at a dotted path, or an error naming the path and the keys available there.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut cur = root;
    let mut done = String::new();
    for seg in path.split('.') {
        cur = step(cur, seg).ok_or_else(|| unknown(path, &done, cur))?;
        if !done.is_empty() {
            done.push('.');
        }
        done.push_str(seg);
    }
    Ok(cur)
}

fn step<'a>(v: &'a Value, seg: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

fn unknown(path: &str, done: &str, at: &Value) -> String {
    let hint = match at {
        Value::Object(m) => {
            format!(
                "fields there: {}",
                m.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
        Value::Array(a) => format!("a list of {} items there", a.len()),
        _ => "it is not a struct or list".into(),
    };
    let at = if done.is_empty() {
        "the scenario root"
    } else {
        done
    };
    format!("unknown scenario field path {path:?} (at {at}: {hint})")
}

/// Sets the value at a dotted path, returning the value as stored. A whole number given for an
/// integer field is stored as an integer; any number given for a float field is stored as a
/// float; other type mismatches surface when the scenario is deserialized.
pub fn set_path(root: &mut Value, path: &str, value: &Value) -> Result<Value, String> {
    let old = lookup(root, path)?.clone();
    let mut cur = root;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .expect("path checked by lookup above");
    }
    let stored = coerce(&old, value).map_err(|e| format!("{path}: {e}"))?;
    *cur = stored.clone();
    Ok(stored)
}

fn coerce(old: &Value, new: &Value) -> Result<Value, String> {
    match (old, new) {
        (Value::Number(o), Value::Number(n)) if o.is_f64() => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{n} is not a finite number")),
        (Value::Number(o), Value::Number(n)) if !o.is_f64() && n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x.fract() == 0.0 && (0.0..1.8e19).contains(&x) && o.is_u64() {
                Ok(Value::from(x as u64))
            } else if x.fract() == 0.0 && x.abs() < 9.2e18 {
                Ok(Value::from(x as i64))
            } else {
                Err(format!("{x} is not a whole number, the field needs one"))
            }
        }
        (Value::Number(_), Value::Number(_)) => Ok(new.clone()),
        (Value::Number(_), other)
        | (Value::Bool(_), other @ (Value::Number(_) | Value::String(_))) => {
            Err(format!("{other} does not fit a field holding {old}"))
        }
        _ => Ok(new.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_path_walks_structs_and_lists_and_names_unknown_fields() {
        let mut v = json!({"a": {"b": 1.5, "n": 3, "list": [0.1, 0.2]}});
        assert_eq!(set_path(&mut v, "a.b", &json!(2)).unwrap(), json!(2.0));
        assert_eq!(set_path(&mut v, "a.n", &json!(4.0)).unwrap(), json!(4));
        assert_eq!(
            set_path(&mut v, "a.list.1", &json!(0.7)).unwrap(),
            json!(0.7)
        );
        assert_eq!(v, json!({"a": {"b": 2.0, "n": 4, "list": [0.1, 0.7]}}));
        let e = set_path(&mut v, "a.c", &json!(1)).unwrap_err();
        assert!(e.contains("\"a.c\"") && e.contains("b, list, n"), "{e}");
        assert!(set_path(&mut v, "a.list.2", &json!(1)).is_err());
        assert!(set_path(&mut v, "a.n", &json!(4.5)).is_err());
        assert!(set_path(&mut v, "a.b", &json!("x")).is_err());
    }

    #[test]
    fn ranges_hit_their_ends_exactly() {
        let v = axis_value_list(&AxisValues::Linear {
            start: 0.1,
            stop: 0.7,
            n: 7,
        })
        .unwrap();
        let x: Vec<f64> = v.iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!((x[0], x[6]), (0.1, 0.7));
        assert!((x[3] - 0.4).abs() < 1e-15);
        let v = axis_value_list(&AxisValues::Log {
            start: 1e-3,
            stop: 1e3,
            n: 7,
        })
        .unwrap();
        let x: Vec<f64> = v.iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!((x[0], x[6]), (1e-3, 1e3));
        assert!((x[3] - 1.0).abs() < 1e-15 && (x[4] - 10.0).abs() < 1e-13);
        assert!(axis_value_list(&AxisValues::Log {
            start: 0.0,
            stop: 1.0,
            n: 2
        })
        .is_err());
        assert!(axis_value_list(&AxisValues::Linear {
            start: 0.0,
            stop: 1.0,
            n: 0
        })
        .is_err());
        assert_eq!(
            axis_value_list(&AxisValues::Linear {
                start: 2.0,
                stop: 9.0,
                n: 1
            })
            .unwrap(),
            vec![json!(2.0)]
        );
    }
}
