//! The binary's global allocator: every block is wiped when it is freed or moved.
//!
//! [`crate::secret::SecretBytes`] and `Zeroizing` wipe what symbolon owns, but secrets also
//! pass through buffers owned by the crates symbolon uses (a parser's growing `Vec`, an encoder's
//! scratch space, a `String` that was reallocated when it grew), and those are freed without
//! being wiped. So every block is zeroed before it goes back to the system allocator, and a
//! reallocation always moves the block (the old one is wiped) rather than letting the system
//! allocator copy and free it behind our back. `tests/memory.rs` scans the process's memory after
//! a whole ceremony for any copy left (docs/DESIGN.md, "Secrets in memory").
//!
//! The cost is one pass of zeroing per byte freed: small beside the cryptography, and measured
//! by `cargo bench --bench large_secret`.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use zeroize::Zeroize;

/// The system allocator, wiping every block it frees.
pub struct WipeOnFree;

/// Zeroes `len` bytes at `ptr` with writes the compiler may not remove before the free.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    if len > 0 {
        // SAFETY: the caller's contract; the block is ours until it is freed.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }.zeroize();
    }
}

// SAFETY: every method forwards to `System` with the layout it was given; blocks are only
// written (zeroed) while they are still allocated.
unsafe impl GlobalAlloc for WipeOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes (GlobalAlloc's contract).
        unsafe {
            wipe(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract gives a valid layout for `new_size` at `layout.align()`;
        // the new block is fresh, so the copy does not overlap, and the old one is freed (wiped)
        // only once it was copied.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = System.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
