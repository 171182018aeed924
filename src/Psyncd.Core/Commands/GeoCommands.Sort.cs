namespace Psyncd.Commands;

/// <summary>
/// How redis-server orders search results by distance, which decides the order of equal distances (members
/// at the same position) and, with COUNT, which of them are returned: a full sort is glibc's qsort, a stable
/// merge sort; a partial one (COUNT smaller than the matches) is Redis's pqsort, a Bentley-McIlroy quicksort
/// that only sorts the parts of the array that hold the first COUNT positions.
/// </summary>
internal static partial class GeoCommands
{
    /// <summary>qsort's comparison of two distances (ties are 0; a NaN compares below everything, as C's comparisons make it).</summary>
    private static int CompareDistance(in GeoPoint a, in GeoPoint b, bool descending)
    {
        int c = a.Distance > b.Distance ? 1 : a.Distance == b.Distance ? 0 : -1;
        return descending ? -c : c;
    }

    /// <summary>
    /// A top-down merge sort with glibc's split (the first half is the smaller) and merge rule (the left element
    /// wins unless it compares greater): the same comparisons, so the same order, as glibc 2.36's qsort.
    /// </summary>
    private static void MergeSort(Span<GeoPoint> points, bool descending)
    {
        if (points.Length <= 1)
            return;
        var scratch = new GeoPoint[points.Length];
        MergeSort(points, scratch, descending);
    }

    private static void MergeSort(Span<GeoPoint> points, Span<GeoPoint> scratch, bool descending)
    {
        int n = points.Length;
        if (n <= 1)
            return;
        int n1 = n / 2;
        var left = points[..n1];
        var right = points[n1..];
        MergeSort(left, scratch, descending);
        MergeSort(right, scratch, descending);
        int i = 0, j = 0, k = 0;
        while (i < left.Length && j < right.Length)
            scratch[k++] = CompareDistance(left[i], right[j], descending) <= 0 ? left[i++] : right[j++];
        while (i < left.Length)
            scratch[k++] = left[i++];
        // What is left of the right half is already in place.
        scratch[..k].CopyTo(points);
    }

    /// <summary>
    /// Sorts enough of <paramref name="points"/> that positions <paramref name="first"/> to <paramref name="last"/>
    /// hold what a full sort would put there, with pqsort's choices: insertion sort below 7 elements, the median
    /// of three (of three medians above 40) as pivot, three-way partitioning, and only the parts that overlap the
    /// wanted positions sorted further.
    /// </summary>
    private static void PartialQuickSort(Span<GeoPoint> points, int first, int last, bool descending)
        => PartialQuickSort(points, 0, points.Length, first, last, descending);

    private static void PartialQuickSort(Span<GeoPoint> a, int start, int n, int first, int last, bool descending)
    {
        while (true)
        {
            if (n < 7)
            {
                for (int m = start + 1; m < start + n; m++)
                {
                    for (int l = m; l > start && CompareDistance(a[l - 1], a[l], descending) > 0; l--)
                        (a[l], a[l - 1]) = (a[l - 1], a[l]);
                }
                return;
            }
            int pivot = start + n / 2;
            if (n > 7)
            {
                int low = start, high = start + n - 1;
                if (n > 40)
                {
                    int d = n / 8;
                    low = MedianOfThree(a, low, low + d, low + 2 * d, descending);
                    pivot = MedianOfThree(a, pivot - d, pivot, pivot + d, descending);
                    high = MedianOfThree(a, high - 2 * d, high - d, high, descending);
                }
                pivot = MedianOfThree(a, low, pivot, high, descending);
            }
            (a[start], a[pivot]) = (a[pivot], a[start]);

            // a[start] is the pivot; equal elements gather at both ends ([start+1, pa) and (pd, end]).
            int pa = start + 1, pb = pa;
            int pc = start + n - 1, pd = pc;
            while (true)
            {
                int c;
                while (pb <= pc && (c = CompareDistance(a[pb], a[start], descending)) <= 0)
                {
                    if (c == 0)
                    {
                        (a[pa], a[pb]) = (a[pb], a[pa]);
                        pa++;
                    }
                    pb++;
                }
                while (pb <= pc && (c = CompareDistance(a[pc], a[start], descending)) >= 0)
                {
                    if (c == 0)
                    {
                        (a[pc], a[pd]) = (a[pd], a[pc]);
                        pd--;
                    }
                    pc--;
                }
                if (pb > pc)
                    break;
                (a[pb], a[pc]) = (a[pc], a[pb]);
                pb++;
                pc--;
            }

            // The equal elements move to the middle.
            int end = start + n;
            int r = Math.Min(pa - start, pb - pa);
            SwapBlocks(a, start, pb - r, r);
            r = Math.Min(pd - pc, end - pd - 1);
            SwapBlocks(a, pb, end - r, r);

            r = pb - pa;
            if (r > 1 && Overlaps(start, r, first, last))
                PartialQuickSort(a, start, r, first, last, descending);
            r = pd - pc;
            if (r <= 1)
                return;
            start = end - r;
            n = r;
            if (!Overlaps(start, n, first, last))
                return;
        }
    }

    private static bool Overlaps(int start, int n, int first, int last) => !(last < start || first >= start + n);

    private static int MedianOfThree(Span<GeoPoint> a, int i, int j, int k, bool descending)
    {
        return CompareDistance(a[i], a[j], descending) < 0
            ? (CompareDistance(a[j], a[k], descending) < 0 ? j : (CompareDistance(a[i], a[k], descending) < 0 ? k : i))
            : (CompareDistance(a[j], a[k], descending) > 0 ? j : (CompareDistance(a[i], a[k], descending) < 0 ? i : k));
    }

    /// <summary>Swaps a[x + i] with a[y + i] for i below <paramref name="count"/>.</summary>
    private static void SwapBlocks(Span<GeoPoint> a, int x, int y, int count)
    {
        for (int i = 0; i < count; i++)
            (a[x + i], a[y + i]) = (a[y + i], a[x + i]);
    }
}
