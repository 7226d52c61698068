//! Registry conformance: the `const` object tables in `lwm2m_objects::registry`
//! must equal the OMA object definitions (DDF XML) they were written from.
//!
//! Where the XML comes from:
//! - `$LWM2M_REGISTRY_DIR` when set;
//! - otherwise `lwm2m-objects/registry/`, the copy kept in the repository.
//!
//! A missing directory or a missing file FAILS the test (never a skip). Every
//! difference — object or resource, field by field — is collected and
//! reported in one failure message that names object, resource and field.
//!
//! A second test checks that the in-repo copy is byte-identical to the shared
//! registry snapshot `<repo>/../shared/registry` whenever that exists.

use std::fs;
use std::path::{Path, PathBuf};

use lwm2m_core::value::DataType;
use lwm2m_objects::registry::{self, ObjectDef, Operations, ResourceDef};

/// The objects the generic-mode client must carry (app-integration.txt, "Objects").
const GENERIC_OBJECTS: [u16; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn registry_dir() -> PathBuf {
    match std::env::var_os("LWM2M_REGISTRY_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir().join("registry"),
    }
}

/// One `<Item>` as the XML states it, whitespace-normalised like `list.py`.
#[derive(Debug, Default)]
struct XmlResource {
    id: u16,
    name: String,
    operations: String,
    multiple: String,
    mandatory: String,
    data_type: String,
    range: String,
    units: String,
}

#[derive(Debug, Default)]
struct XmlObject {
    id: u16,
    name: String,
    version: String,
    lwm2m_version: String,
    multiple: String,
    mandatory: String,
    resources: Vec<XmlResource>,
}

fn norm(s: Option<&str>) -> String {
    s.unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| norm(c.text()))
        .unwrap_or_default()
}

fn parse_xml(path: &Path) -> XmlObject {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read registry file {}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("registry file {} is not XML: {e}", path.display()));
    let obj = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Object")
        .unwrap_or_else(|| panic!("{}: no <Object> element", path.display()));
    let or_default = |s: String| if s.is_empty() { "1.0".to_string() } else { s };
    let mut out = XmlObject {
        id: child_text(obj, "ObjectID")
            .parse()
            .unwrap_or_else(|e| panic!("{}: bad ObjectID: {e}", path.display())),
        name: child_text(obj, "Name"),
        version: or_default(child_text(obj, "ObjectVersion")),
        lwm2m_version: or_default(child_text(obj, "LWM2MVersion")),
        multiple: child_text(obj, "MultipleInstances"),
        mandatory: child_text(obj, "Mandatory"),
        resources: Vec::new(),
    };
    let resources = obj
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "Resources")
        .unwrap_or_else(|| panic!("{}: no <Resources>", path.display()));
    for item in resources.children().filter(|c| c.is_element() && c.tag_name().name() == "Item") {
        out.resources.push(XmlResource {
            id: item
                .attribute("ID")
                .unwrap_or_default()
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("{}: bad Item ID: {e}", path.display())),
            name: child_text(item, "Name"),
            operations: child_text(item, "Operations"),
            multiple: child_text(item, "MultipleInstances"),
            mandatory: child_text(item, "Mandatory"),
            data_type: child_text(item, "Type"),
            range: child_text(item, "RangeEnumeration"),
            units: child_text(item, "Units"),
        });
    }
    out
}

fn multiplicity(multiple: bool) -> &'static str {
    if multiple { "Multiple" } else { "Single" }
}

fn mandatory(m: bool) -> &'static str {
    if m { "Mandatory" } else { "Optional" }
}

/// Every difference between a table and the XML, one line each.
fn differences(code: &ObjectDef, xml: &XmlObject) -> Vec<String> {
    let mut d = Vec::new();
    let o = xml.id;
    let mut field = |what: String, code: &str, xml: &str| {
        if code != xml {
            d.push(format!("{what}: code says {code:?}, XML says {xml:?}"));
        }
    };
    field(format!("object {o} ID"), &code.id.to_string(), &xml.id.to_string());
    field(format!("object {o} name"), code.name, &xml.name);
    field(format!("object {o} version"), code.version, &xml.version);
    field(format!("object {o} LwM2M version"), code.lwm2m_version, &xml.lwm2m_version);
    field(format!("object {o} multiplicity"), multiplicity(code.multiple), &xml.multiple);
    field(format!("object {o} mandatory"), mandatory(code.mandatory), &xml.mandatory);
    for x in &xml.resources {
        let Some(r): Option<&ResourceDef> = code.resource(x.id) else {
            d.push(format!("object {o} resource {} ({}): missing from the code", x.id, x.name));
            continue;
        };
        let at = |f: &str| format!("object {o} resource {} ({}) {f}", x.id, x.name);
        let mut field = |what: String, code: &str, xml: &str| {
            if code != xml {
                d.push(format!("{what}: code says {code:?}, XML says {xml:?}"));
            }
        };
        field(at("name"), r.name, &x.name);
        field(at("operations"), r.operations.as_str(), &x.operations);
        field(at("multiplicity"), multiplicity(r.multiple), &x.multiple);
        field(at("mandatory"), mandatory(r.mandatory), &x.mandatory);
        field(at("type"), r.data_type.registry_name(), &x.data_type);
        field(at("range"), r.range, &x.range);
        field(at("units"), r.units, &x.units);
        if (r.operations == Operations::E) != (r.data_type == DataType::None) {
            d.push(format!(
                "{}: executable resources, and only they, have no data type",
                at("type")
            ));
        }
    }
    for r in code.resources {
        if !xml.resources.iter().any(|x| x.id == r.id) {
            d.push(format!(
                "object {o} resource {} ({}): in the code, not in the XML",
                r.id, r.name
            ));
        }
    }
    let ids: Vec<u16> = code.resources.iter().map(|r| r.id).collect();
    if !ids.windows(2).all(|w| w[0] < w[1]) {
        d.push(format!("object {o}: resource table not in strictly ascending ID order"));
    }
    d
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    assert!(
        dir.is_dir(),
        "registry directory {} does not exist: the conformance test needs the OMA object XML \
         (lwm2m-objects/registry/ in the repository, or set LWM2M_REGISTRY_DIR)",
        dir.display()
    );
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_object_table_equals_the_registry_xml() {
    let dir = registry_dir();
    let files = xml_files(&dir);
    let mut seen = Vec::new();
    let mut diffs = Vec::new();
    for path in &files {
        let xml = parse_xml(path);
        match registry::object(xml.id) {
            Some(code) => diffs.extend(differences(code, &xml)),
            None => diffs.push(format!(
                "object {} ({}) in {} has no table in the code",
                xml.id,
                xml.name,
                path.display()
            )),
        }
        seen.push(xml.id);
    }
    for def in registry::ALL {
        if !seen.contains(&def.id) {
            diffs.push(format!(
                "object {} ({}) has a table but no XML file in {}",
                def.id,
                def.name,
                dir.display()
            ));
        }
    }
    for id in GENERIC_OBJECTS {
        if !seen.contains(&id) {
            diffs.push(format!("generic-mode object {id} has no XML file in {}", dir.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s) between the object tables and {}:\n  {}",
        diffs.len(),
        dir.display(),
        diffs.join("\n  ")
    );
    // All twelve generic objects, plus Portfolio and App Data Container.
    assert!(seen.len() >= 12, "only {} XML files in {}", seen.len(), dir.display());
}

#[test]
fn comparison_names_object_resource_and_field_of_a_difference() {
    let path = registry_dir().join("3.xml");
    let xml = parse_xml(&path);
    let mut resources: Vec<ResourceDef> = registry::DEVICE.resources.to_vec();
    resources[9].operations = Operations::RW; // Battery Level is R in the registry
    resources[9].range = "0..99";
    let tampered =
        ObjectDef { resources: Box::leak(resources.into_boxed_slice()), ..registry::DEVICE };
    let d = differences(&tampered, &xml);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d[0].starts_with("object 3 resource 9 (Battery Level) operations"), "{}", d[0]);
    assert!(d[1].starts_with("object 3 resource 9 (Battery Level) range"), "{}", d[1]);
}

#[test]
fn repository_copy_equals_shared_registry_when_present() {
    // <repo>/../shared/registry on the machines that hold the shared snapshot;
    // LWM2M_REGISTRY_DIR overrides.
    let shared = std::env::var_os("LWM2M_REGISTRY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../shared/registry"));
    if !shared.is_dir() {
        eprintln!("note: {} not present; only the in-repository copy is checked", shared.display());
        return;
    }
    let copy = manifest_dir().join("registry");
    let copies = xml_files(&copy);
    assert!(copies.len() >= 12, "only {} XML files in {}", copies.len(), copy.display());
    for file in copies {
        let name = file.file_name().unwrap();
        let theirs = fs::read(shared.join(name)).unwrap_or_else(|e| {
            panic!("{} missing from {}: {e}", name.display(), shared.display())
        });
        assert!(
            fs::read(&file).unwrap() == theirs,
            "{} differs from {}",
            file.display(),
            shared.join(name).display()
        );
    }
}
