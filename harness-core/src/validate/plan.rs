//! The rules of a message type, read once from its descriptors and kept.
//!
//! Reading options decodes them from bytes each time, so plans are kept per pool and
//! message name. The few most recent pools are kept (a process usually has one); a pool
//! pushed out is read again when it comes back.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    OneofDescriptor,
};

use super::Failure;
use super::rules::{self, FieldRules};
use super::shape::Shape;

/// What to check in a message of one type.
#[derive(Debug)]
pub struct MessagePlan {
    /// In declaration order; fields with no rules and no messages to visit are left out,
    /// and all of them for a message with `(validate.disabled)` or `(validate.ignored)`.
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub enum Step {
    Field(Box<FieldPlan>),
    /// A oneof with `(validate.required)`, placed before its first field.
    RequiredOneof(OneofPlan),
}

#[derive(Debug)]
pub struct FieldPlan {
    pub field: FieldDescriptor,
    pub shape: Shape,
    /// A member of a oneof (real, or synthetic for proto3 `optional`): unset, it is not
    /// checked at all.
    pub in_oneof: bool,
    /// It holds messages (of types other than `google.protobuf.*`) to validate in turn.
    pub visit: bool,
    pub rules: FieldRules,
    /// Rules that do not fit the field, reported whenever it is checked.
    pub misfits: Vec<Failure>,
}

#[derive(Debug)]
pub struct OneofPlan {
    pub fields: Vec<FieldDescriptor>,
    /// "one of a, b or c must be set".
    pub message: String,
}

/// The options of validate.proto in one pool; absent when the pool does not hold it.
struct Extensions {
    rules: Option<ExtensionDescriptor>,
    disabled: Option<ExtensionDescriptor>,
    ignored: Option<ExtensionDescriptor>,
    required: Option<ExtensionDescriptor>,
}

impl Extensions {
    fn of(pool: &DescriptorPool) -> Self {
        Self {
            rules: pool.get_extension_by_name("validate.rules"),
            disabled: pool.get_extension_by_name("validate.disabled"),
            ignored: pool.get_extension_by_name("validate.ignored"),
            required: pool.get_extension_by_name("validate.required"),
        }
    }
}

fn is_set(options: &DynamicMessage, extension: Option<&ExtensionDescriptor>) -> bool {
    extension.is_some_and(|extension| {
        options.has_extension(extension) && options.get_extension(extension).as_bool() == Some(true)
    })
}

struct PoolPlans {
    pool: DescriptorPool,
    messages: HashMap<String, Arc<MessagePlan>>,
}

const POOLS_KEPT: usize = 8;

static PLANS: RwLock<Vec<PoolPlans>> = RwLock::new(Vec::new());

/// The plan of `message`, read on first use.
pub fn plan(message: &MessageDescriptor) -> Arc<MessagePlan> {
    let pool = message.parent_pool();
    {
        let plans = PLANS.read().unwrap_or_else(PoisonError::into_inner);
        let kept = plans
            .iter()
            .find(|kept| kept.pool == *pool)
            .and_then(|kept| kept.messages.get(message.full_name()));
        if let Some(plan) = kept {
            return Arc::clone(plan);
        }
    }
    let plan = Arc::new(build(message, &Extensions::of(pool)));
    let mut plans = PLANS.write().unwrap_or_else(PoisonError::into_inner);
    let index = match plans.iter().position(|kept| kept.pool == *pool) {
        Some(index) => index,
        None => {
            if plans.len() == POOLS_KEPT {
                plans.remove(0);
            }
            plans.push(PoolPlans {
                pool: pool.clone(),
                messages: HashMap::new(),
            });
            plans.len() - 1
        }
    };
    let kept = plans[index]
        .messages
        .entry(message.full_name().to_owned())
        .or_insert(plan);
    Arc::clone(kept)
}

fn build(message: &MessageDescriptor, extensions: &Extensions) -> MessagePlan {
    let options = message.options();
    if is_set(&options, extensions.disabled.as_ref())
        || is_set(&options, extensions.ignored.as_ref())
    {
        return MessagePlan { steps: Vec::new() };
    }
    let mut steps = Vec::new();
    let mut oneofs_seen = Vec::new();
    for field in message.fields() {
        let oneof = field.containing_oneof();
        if let Some(oneof) = &oneof
            && !oneof.is_synthetic()
            && !oneofs_seen.contains(&oneof.name().to_owned())
        {
            oneofs_seen.push(oneof.name().to_owned());
            if is_set(&oneof.options(), extensions.required.as_ref()) {
                steps.push(Step::RequiredOneof(oneof_plan(oneof)));
            }
        }
        let shape = Shape::of(&field);
        let mut misfits = Vec::new();
        let rules = match field_rules(&field, extensions.rules.as_ref()) {
            Some(rules) => rules::compile(&rules, &shape, &mut misfits),
            None => FieldRules::default(),
        };
        let visit = holds_messages(&shape);
        if visit || rules.required || rules.family.is_some() || !misfits.is_empty() {
            steps.push(Step::Field(Box::new(FieldPlan {
                field,
                shape,
                in_oneof: oneof.is_some(),
                visit,
                rules,
                misfits,
            })));
        }
    }
    MessagePlan { steps }
}

/// The `(validate.rules)` of `field`, a `validate.FieldRules`.
fn field_rules(
    field: &FieldDescriptor,
    extension: Option<&ExtensionDescriptor>,
) -> Option<DynamicMessage> {
    let extension = extension?;
    let options = field.options();
    if !options.has_extension(extension) {
        return None;
    }
    options.get_extension(extension).as_message().cloned()
}

/// Whether values of `shape` are messages to validate: the well-known types of
/// `google.protobuf` carry no rules.
fn holds_messages(shape: &Shape) -> bool {
    let (Shape::Single(kind) | Shape::List(kind) | Shape::Map(_, kind)) = shape;
    matches!(kind, Kind::Message(message) if !message.full_name().starts_with("google.protobuf."))
}

fn oneof_plan(oneof: &OneofDescriptor) -> OneofPlan {
    let fields: Vec<FieldDescriptor> = oneof.fields().collect();
    let names: Vec<&str> = fields.iter().map(FieldDescriptor::name).collect();
    let message = match names.as_slice() {
        [] => "must be set".to_owned(),
        [only] => format!("{only} must be set"),
        [first @ .., last] => format!("one of {} or {last} must be set", first.join(", ")),
    };
    OneofPlan { fields, message }
}
