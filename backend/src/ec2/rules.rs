//! Inbound rules in one comparable form, whether read from a definition or from EC2.

use std::fmt;

use knit_shared::validate;

/// Where traffic may come from: an address block, or the members of a group (by name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Cidr(String),
    Group(String),
}

/// One inbound rule: protocol (`tcp`, `udp`, `icmp`, or `-1` for all), ports, source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub source: Source,
}

impl Rule {
    /// A definition's rule; `groups` are the names of its firewall groups. The definition checks
    /// have refused malformed ports already.
    pub fn from_definition(proto: &str, ports: &str, from: &str, groups: &[&str]) -> Self {
        let protocol = if proto == "all" { "-1" } else { proto }.to_owned();
        let (from_port, to_port) = if protocol == "-1" {
            (-1, -1)
        } else {
            validate::port_range(ports)
                .map_or((0, 0), |(low, high)| (i32::from(low), i32::from(high)))
        };
        let source = if groups.contains(&from) {
            Source::Group(from.to_owned())
        } else {
            Source::Cidr(from.to_owned())
        };
        Self {
            protocol,
            from_port,
            to_port,
            source,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Cidr(block) => block,
            Source::Group(name) => name,
        };
        match (self.protocol.as_str(), self.from_port == self.to_port) {
            ("-1", _) => write!(f, "all from {source}"),
            (protocol, true) => write!(f, "{protocol} {} from {source}", self.from_port),
            (protocol, false) => {
                write!(
                    f,
                    "{protocol} {}-{} from {source}",
                    self.from_port, self.to_port
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_from_a_definition_name_their_source() {
        let web = Rule::from_definition("tcp", "80", "0.0.0.0/0", &["db"]);
        assert_eq!(web.to_string(), "tcp 80 from 0.0.0.0/0");
        let db = Rule::from_definition("tcp", "5432-5433", "db", &["db"]);
        assert_eq!(db.source, Source::Group("db".to_owned()));
        assert_eq!(db.to_string(), "tcp 5432-5433 from db");
        assert_eq!(
            Rule::from_definition("all", "0", "10.0.0.0/8", &[]).to_string(),
            "all from 10.0.0.0/8"
        );
    }
}
