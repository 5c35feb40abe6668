//! Hourly prices of instance types: on-demand from a list knit ships (EC2's own API has no
//! on-demand prices; the Pricing API is another service, not reachable from every network),
//! spot from EC2's spot price history.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::DateTime;

use super::{Ec2Error, Ec2Target};

/// Where [`on_demand`] comes from.
pub const ON_DEMAND_SOURCE: &str = "AWS's public on-demand price list for Linux in us-east-1 \
    (2024 prices, shipped with knit; other regions cost up to about 20% more)";

/// On-demand Linux prices in us-east-1, dollars per hour.
const ON_DEMAND: &[(&str, &str)] = &[
    ("c5.2xlarge", "0.34"),
    ("c5.large", "0.085"),
    ("c5.xlarge", "0.17"),
    ("c6g.large", "0.068"),
    ("c6g.xlarge", "0.136"),
    ("c6i.large", "0.085"),
    ("c6i.xlarge", "0.17"),
    ("c7g.large", "0.0725"),
    ("m5.2xlarge", "0.384"),
    ("m5.4xlarge", "0.768"),
    ("m5.large", "0.096"),
    ("m5.xlarge", "0.192"),
    ("m6g.large", "0.077"),
    ("m6g.xlarge", "0.154"),
    ("m6i.2xlarge", "0.384"),
    ("m6i.large", "0.096"),
    ("m6i.xlarge", "0.192"),
    ("m7g.large", "0.0816"),
    ("m7g.xlarge", "0.1632"),
    ("r5.large", "0.126"),
    ("r5.xlarge", "0.252"),
    ("r6g.large", "0.1008"),
    ("r6i.large", "0.126"),
    ("t2.2xlarge", "0.3712"),
    ("t2.large", "0.0928"),
    ("t2.medium", "0.0464"),
    ("t2.micro", "0.0116"),
    ("t2.nano", "0.0058"),
    ("t2.small", "0.023"),
    ("t2.xlarge", "0.1856"),
    ("t3.2xlarge", "0.3328"),
    ("t3.large", "0.0832"),
    ("t3.medium", "0.0416"),
    ("t3.micro", "0.0104"),
    ("t3.nano", "0.0052"),
    ("t3.small", "0.0208"),
    ("t3.xlarge", "0.1664"),
    ("t3a.2xlarge", "0.3008"),
    ("t3a.large", "0.0752"),
    ("t3a.medium", "0.0376"),
    ("t3a.micro", "0.0094"),
    ("t3a.nano", "0.0047"),
    ("t3a.small", "0.0188"),
    ("t3a.xlarge", "0.1504"),
    ("t4g.2xlarge", "0.2688"),
    ("t4g.large", "0.0672"),
    ("t4g.medium", "0.0336"),
    ("t4g.micro", "0.0084"),
    ("t4g.nano", "0.0042"),
    ("t4g.small", "0.0168"),
    ("t4g.xlarge", "0.1344"),
];

/// The on-demand price of `instance_type` per hour, if the list has it.
pub fn on_demand(instance_type: &str) -> Option<&'static str> {
    ON_DEMAND
        .binary_search_by(|(name, _)| name.cmp(&instance_type))
        .ok()
        .map(|index| ON_DEMAND[index].1)
}

/// The lowest current Linux spot price of each instance type among the region's zones.
pub async fn spot(
    client: &Client,
    target: &Ec2Target,
) -> Result<BTreeMap<String, String>, Ec2Error> {
    // From now: one current price per type, zone and product, not the history.
    let mut pages = client
        .describe_spot_price_history()
        .start_time(DateTime::from(std::time::SystemTime::now()))
        .into_paginator()
        .send();
    let mut lowest: BTreeMap<String, (f64, String)> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        for entry in page.spot_price_history() {
            let linux = entry
                .product_description()
                .is_some_and(|p| p.as_str().starts_with("Linux/UNIX"));
            let (true, Some(kind), Some(text)) = (linux, entry.instance_type(), entry.spot_price())
            else {
                continue;
            };
            let Ok(price) = text.parse::<f64>() else {
                continue;
            };
            let current = lowest
                .entry(kind.as_str().to_owned())
                .or_insert((price, text.to_owned()));
            if price < current.0 {
                *current = (price, text.to_owned());
            }
        }
    }
    Ok(lowest
        .into_iter()
        .map(|(kind, (_, text))| (kind, text))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_so_every_type_is_found() {
        assert!(ON_DEMAND.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(on_demand("t3.micro"), Some("0.0104"));
        assert_eq!(on_demand("m7g.large"), Some("0.0816"));
        assert_eq!(on_demand("x2iedn.metal"), None);
    }
}
