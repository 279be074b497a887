import Engine
internal import CCurl

/// Gives the heap memory that is free back to the system (glibc keeps it for the process
/// otherwise, so a pass that once needed much would keep it resident).
public func releaseFreeMemory() {
    _ = ccurl_malloc_trim(0)
}
