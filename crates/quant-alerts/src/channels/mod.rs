//! One module per channel kind: the request it sends and how it reads the
//! reply.

pub(crate) mod dingtalk;
pub(crate) mod email;
pub(crate) mod feishu;
pub(crate) mod telegram;
pub(crate) mod webhook;
pub(crate) mod wecom;
