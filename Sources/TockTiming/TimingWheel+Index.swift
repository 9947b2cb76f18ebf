/// The id index of `TimingWheel`: open addressing with linear probing over one array of 64-bit
/// cells, each the low 32 bits of the id's hash and the slot number. Ids themselves stay in the
/// slots, so a lookup costs one cell probe plus the slot the caller visits anyway, and removing an
/// expired entry needs no key comparison at all. (A `Dictionary` cost a third of expiration time.)
extension TimingWheel {
    @usableFromInline static var emptyCell: UInt64 { .max }

    @inlinable
    static func hashTag(_ id: ID) -> UInt64 { UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: id.hashValue)) }

    @inlinable
    static func cell(tag: UInt64, slot: Int32) -> UInt64 { tag << 32 | UInt64(UInt32(bitPattern: slot)) }

    @inlinable
    func findCell(_ id: ID, tag: UInt64) -> Int? {
        let mask = index.count - 1
        var position = Int(tag) & mask
        while true {
            let cell = index[position]
            if cell == Self.emptyCell { return nil }
            if cell >> 32 == tag, slots[Int(Int32(bitPattern: UInt32(truncatingIfNeeded: cell)))].id == id {
                return position
            }
            position = (position + 1) & mask
        }
    }

    @inlinable
    func lookup(_ id: ID) -> Int32? {
        guard let position = findCell(id, tag: Self.hashTag(id)) else { return nil }
        return Int32(bitPattern: UInt32(truncatingIfNeeded: index[position]))
    }

    /// Points `id` at `slot`; returns the slot it pointed at before, if any.
    @inlinable
    mutating func indexInsert(_ id: ID, slot: Int32, tag: UInt64) -> Int32? {
        if let position = findCell(id, tag: tag) {
            let previous = Int32(bitPattern: UInt32(truncatingIfNeeded: index[position]))
            index[position] = Self.cell(tag: tag, slot: slot)
            return previous
        }
        if (indexCount + 1) * 2 > index.count { resizeIndex(to: index.count * 2) }
        let mask = index.count - 1
        var position = Int(tag) & mask
        while index[position] != Self.emptyCell { position = (position + 1) & mask }
        index[position] = Self.cell(tag: tag, slot: slot)
        indexCount += 1
        return nil
    }

    /// Removes `id` from the index; returns its slot.
    @inlinable
    mutating func indexRemove(_ id: ID) -> Int32? {
        guard let position = findCell(id, tag: Self.hashTag(id)) else { return nil }
        let slot = Int32(bitPattern: UInt32(truncatingIfNeeded: index[position]))
        removeCell(at: position)
        return slot
    }

    /// Removes the cell of an indexed slot, comparing slot numbers only.
    @inlinable
    mutating func indexRemove(slot: Int32) {
        let tag = UInt64(slots[Int(slot)].tag)
        let wanted = Self.cell(tag: tag, slot: slot)
        let mask = index.count - 1
        var position = Int(tag) & mask
        while index[position] != wanted { position = (position + 1) & mask }
        removeCell(at: position)
    }

    /// Backward-shift deletion keeps every probe chain unbroken without tombstones.
    @inlinable
    mutating func removeCell(at position: Int) {
        let mask = index.count - 1
        var hole = position
        var probe = position
        while true {
            probe = (probe + 1) & mask
            let cell = index[probe]
            if cell == Self.emptyCell { break }
            let home = Int(cell >> 32) & mask
            // Move the cell into the hole unless its home lies cyclically in (hole, probe].
            let homeBetween = hole <= probe ? (home > hole && home <= probe) : (home > hole || home <= probe)
            if !homeBetween {
                index[hole] = cell
                hole = probe
            }
        }
        index[hole] = Self.emptyCell
        indexCount -= 1
    }

    @usableFromInline
    mutating func resizeIndex(to capacity: Int) {
        let old = index
        index = Array(repeating: Self.emptyCell, count: capacity)
        let mask = capacity - 1
        for cell in old where cell != Self.emptyCell {
            var position = Int(cell >> 32) & mask
            while index[position] != Self.emptyCell { position = (position + 1) & mask }
            index[position] = cell
        }
    }

    /// Every (id, slot) held.
    @inlinable
    var indexedSlots: [(id: ID, slot: Int32)] {
        var result: [(id: ID, slot: Int32)] = []
        result.reserveCapacity(indexCount)
        for cell in index where cell != Self.emptyCell {
            let slot = Int32(bitPattern: UInt32(truncatingIfNeeded: cell))
            if let id = slots[Int(slot)].id { result.append((id, slot)) }
        }
        return result
    }
}
