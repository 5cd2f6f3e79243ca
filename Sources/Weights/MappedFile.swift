#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps the regular file `path` read-only, whole. A file shorter than `minimumSize` gets
/// `tooShort(size)`; a FIFO or device is refused rather than blocking or mapping endlessly.
/// The caller unmaps `(base, size)`.
func mapReadOnly(_ path: String, minimumSize: Int, tooShort: (Int) -> WeightsError) throws -> (UnsafeMutableRawPointer, Int) {
    let fd = open(path, O_RDONLY | O_NONBLOCK)  // a FIFO must not block the load
    guard fd >= 0 else {
        if errno == ENOENT { throw WeightsError.fileNotFound(path: path) }
        throw WeightsError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw WeightsError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    guard info.st_mode & S_IFMT == S_IFREG else { throw WeightsError.unreadable(path: path, reason: "not a regular file") }
    let size = Int(info.st_size)
    guard size >= minimumSize else { throw tooShort(size) }
    guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
        throw WeightsError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    return (base, size)
}
