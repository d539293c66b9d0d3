//! The binary's global allocator: every block that Rust code frees or moves is wiped first.
//!
//! [`crate::secret::SecretBytes`] and `Zeroizing` wipe what symbolon owns, but secrets also
//! pass through buffers owned by the crates symbolon uses (a parser's growing `Vec`, an encoder's
//! scratch space, a `String` that was reallocated when it grew), and those are freed without
//! being wiped. So every block is zeroed before it goes back to the system allocator, and a
//! reallocation always moves the block (the old one is wiped) rather than letting the system
//! allocator copy and free it behind our back. `tests/memory.rs` scans the process's memory after
//! a whole ceremony for any copy left (docs/DESIGN.md, "Secrets in memory").
//!
//! Memory that C libraries allocate themselves (GMP's numbers in nettle, pcsc-lite's buffers)
//! goes to libc's `free` directly and is not wiped here (docs/DESIGN.md says what is covered).
//!
//! The cost is one pass of zeroing per byte freed: small beside the cryptography
//! (`cargo bench --bench large_secret` runs the binary, with this allocator).

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, wiping every block it frees.
pub struct WipeOnFree;

/// Zeroes `len` bytes at `ptr` with volatile writes, which the compiler may not remove before the
/// free. Written through the raw pointer: the block may never have been initialised, so no
/// `&mut [u8]` is made of it.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    // Word-sized writes where the block allows (system blocks are at least 8-aligned, but a
    // layout may say less), then the bytes left.
    let mut i = 0;
    if (ptr as usize).is_multiple_of(align_of::<u64>()) {
        while i + 8 <= len {
            // SAFETY: inside the block, 8-aligned (the start is, and i is a multiple of 8).
            unsafe { ptr.add(i).cast::<u64>().write_volatile(0) };
            i += 8;
        }
    }
    while i < len {
        // SAFETY: inside the block.
        unsafe { ptr.add(i).write_volatile(0) };
        i += 1;
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
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
