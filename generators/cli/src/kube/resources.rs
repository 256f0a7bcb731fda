//! CPU and memory requests and limits of the container, from `(harness.service)`.
//!
//! For each of cpu and memory: the request and the limit come from the service option;
//! when only one of them is given, the other takes its value (Kubernetes itself
//! defaults a missing request to the limit); when neither is, the defaults below apply.
//! A quantity Kubernetes would refuse, or a request above its limit, is an error.

use std::collections::BTreeMap;

use harness_core::spec::ServiceSpec;
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::KubeGenError;

/// CPU request when the service option gives neither request nor limit.
pub const DEFAULT_CPU_REQUEST: &str = "100m";
/// CPU limit when the service option gives neither request nor limit.
pub const DEFAULT_CPU_LIMIT: &str = "1";
/// Memory request when the service option gives neither request nor limit.
pub const DEFAULT_MEMORY_REQUEST: &str = "128Mi";
/// Memory limit when the service option gives neither request nor limit.
pub const DEFAULT_MEMORY_LIMIT: &str = "256Mi";

/// The container's resources for `service`.
pub fn requirements(service: &ServiceSpec) -> Result<ResourceRequirements, KubeGenError> {
    let cpu = pair(
        "cpu",
        service.requests.cpu.as_deref(),
        service.limits.cpu.as_deref(),
        (DEFAULT_CPU_REQUEST, DEFAULT_CPU_LIMIT),
    )?;
    let memory = pair(
        "memory",
        service.requests.memory.as_deref(),
        service.limits.memory.as_deref(),
        (DEFAULT_MEMORY_REQUEST, DEFAULT_MEMORY_LIMIT),
    )?;
    let map = |cpu: String, memory: String| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu)),
            ("memory".to_owned(), Quantity(memory)),
        ])
    };
    Ok(ResourceRequirements {
        requests: Some(map(cpu.0, memory.0)),
        limits: Some(map(cpu.1, memory.1)),
        ..Default::default()
    })
}

fn pair(
    resource: &str,
    request: Option<&str>,
    limit: Option<&str>,
    defaults: (&str, &str),
) -> Result<(String, String), KubeGenError> {
    let parsed = |kind: &str, value: Option<&str>| -> Result<Option<(String, f64)>, KubeGenError> {
        let Some(value) = value else { return Ok(None) };
        let value = value.trim();
        let amount = parse_quantity(value).ok_or_else(|| KubeGenError::Quantity {
            field: format!("{kind}.{resource}"),
            value: value.to_owned(),
        })?;
        Ok(Some((value.to_owned(), amount)))
    };
    let request = parsed("requests", request)?;
    let limit = parsed("limits", limit)?;
    match (request, limit) {
        (None, None) => Ok((defaults.0.to_owned(), defaults.1.to_owned())),
        (Some((request, _)), None) => Ok((request.clone(), request)),
        (None, Some((limit, _))) => Ok((limit.clone(), limit)),
        (Some((request, r)), Some((limit, l))) => {
            if r > l {
                return Err(KubeGenError::RequestAboveLimit {
                    resource: resource.to_owned(),
                    request,
                    limit,
                });
            }
            Ok((request, limit))
        }
    }
}

/// The amount of a Kubernetes quantity (`250m`, `1.5`, `128Mi`, `1e3`, `2G`), or `None`
/// when Kubernetes would refuse it. Negative quantities are refused: no resource is.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let number = number.strip_prefix('+').unwrap_or(number);
    if number.is_empty() || number.contains('+') || number.matches('.').count() > 1 {
        return None;
    }
    if number == "." {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let digits = exponent
                .strip_prefix('e')
                .or_else(|| exponent.strip_prefix('E'))?;
            let unsigned = digits
                .strip_prefix('+')
                .or_else(|| digits.strip_prefix('-'))
                .unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            10f64.powi(digits.parse().ok()?)
        }
    };
    Some(value * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::spec::Resource;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("250m"), Some(0.25));
        assert_eq!(parse_quantity("1"), Some(1.0));
        assert_eq!(parse_quantity("1.5"), Some(1.5));
        assert_eq!(parse_quantity("128Mi"), Some(128.0 * 1024.0 * 1024.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("1E-3"), Some(0.001));
        assert_eq!(parse_quantity("2G"), Some(2e9));
        assert_eq!(parse_quantity(".5"), Some(0.5));
        for bad in [
            "", "abc", "1 Gi", "1GB", "-1", "1..2", "1e", "Mi", ".", "1mi",
        ] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }

    fn service(
        requests: (Option<&str>, Option<&str>),
        limits: (Option<&str>, Option<&str>),
    ) -> ServiceSpec {
        let resource = |(cpu, memory): (Option<&str>, Option<&str>)| Resource {
            cpu: cpu.map(str::to_owned),
            memory: memory.map(str::to_owned),
        };
        ServiceSpec {
            requests: resource(requests),
            limits: resource(limits),
            ..Default::default()
        }
    }

    fn get(r: &ResourceRequirements, kind: &str, resource: &str) -> String {
        let map = if kind == "requests" {
            &r.requests
        } else {
            &r.limits
        };
        map.as_ref().unwrap()[resource].0.clone()
    }

    #[test]
    fn defaults_and_completion() {
        let r = requirements(&service((None, None), (None, None))).unwrap();
        assert_eq!(get(&r, "requests", "cpu"), DEFAULT_CPU_REQUEST);
        assert_eq!(get(&r, "limits", "memory"), DEFAULT_MEMORY_LIMIT);

        let r = requirements(&service((Some("2"), None), (None, Some("1Gi")))).unwrap();
        assert_eq!(get(&r, "requests", "cpu"), "2");
        assert_eq!(get(&r, "limits", "cpu"), "2");
        assert_eq!(get(&r, "requests", "memory"), "1Gi");
        assert_eq!(get(&r, "limits", "memory"), "1Gi");
    }

    #[test]
    fn refuses_bad_quantities_and_inverted_pairs() {
        let err = requirements(&service((Some("lots"), None), (None, None))).unwrap_err();
        assert!(err.to_string().contains("requests.cpu"), "{err}");
        let err = requirements(&service((None, Some("1Gi")), (None, Some("512Mi")))).unwrap_err();
        assert!(err.to_string().contains("above its limit"), "{err}");
    }
}
