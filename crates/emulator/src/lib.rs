//! Huawei Cloud emulator.
