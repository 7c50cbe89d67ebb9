//! Process stages.
